"""Countries by ISO 3166-1 alpha-2 code, named through pycountry."""
import pycountry


def country_name(code):
    """'DE' -> 'Germany'; unknown codes are shown as they are."""
    if not code:
        return ""
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or getattr(country, "name", code)
