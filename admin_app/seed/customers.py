"""Customer builder: a person (or company) from one of the countries, and their payments."""
from admin_app.seed.codes import BASE62, PAYER, encode_id, payer_chars
from admin_app.seed.countries import (COUNTRIES, COUNTRY_CODES, COUNTRY_CUM_WEIGHTS, EU, UPPER,
                                  US_SALES_TAX_BP, VAT, fill)
from admin_app.seed.payments import Buyer, one_time_purchases, record_transactions
from admin_app.seed.subscriptions import add_subscriptions
from admin_app.seed.timeline import DAY
from admin_app.seed.words import (COMPANY_KINDS, COMPANY_MAILBOXES, COMPANY_WORDS, EMAIL_DOMAINS,
                              FIRST, LAST, STREETS, ascii_slug)
from admin_app.seed.writer import CUSTOMERS

SPAN = 3 * 365 * DAY  # customers signed up over the last three years


def build_customer(gen, index, total):
    """The customer number `index` of `total`, with subscriptions, payments and refunds."""
    rng, now = gen.rng, gen.now
    customer_id = gen.take_id("customer")
    # Ids follow created_at; sign-ups grow over the three years.
    signed_up = now - SPAN + int(SPAN * ((index + rng.random()) / total) ** 0.75)
    details = customer_details(rng, customer_id)
    gateway = "stripe" if rng.random() < 0.72 else "paypal"
    both = rng.random() < 0.08
    stripe_id = ("cus_" + encode_id(customer_id, 7, BASE62, 0) + gen.base62(7)
                 if gateway == "stripe" or both else None)
    payer_id = (encode_id(customer_id, 7, PAYER, 0) + payer_chars(gen.base36(6))
                if gateway == "paypal" or both else None)
    affiliate = rng.choice(gen.affiliates) if gen.affiliates and rng.random() < 0.2 else None
    tax_bp = details.pop("tax_bp")  # included in B2C prices
    buyer = Buyer(customer_id, gateway, affiliate)

    # Payments: first those of the subscriptions, the rest are one-time purchases.
    payments = []
    budget = gen.randint(1, 2 * gen.per_customer - 1) if gen.per_customer > 0 else 0
    earliest = min(signed_up + 60, now)
    if rng.random() < 0.3:
        budget = add_subscriptions(gen, buyer, earliest, budget, payments)
    payments += one_time_purchases(gen, buyer, details["country"], signed_up, earliest, budget,
                                   first_payments=not payments)
    lifetime_value = record_transactions(gen, buyer, payments, tax_bp)
    gen.rows[CUSTOMERS].append((customer_id, *details.values(), stripe_id, payer_id,
                                lifetime_value, gen.datetime_value(signed_up)))


def customer_details(rng, customer_id):
    """The customer's columns from name to vat_number (in the model's order), plus tax_bp:
    the rate included in B2C prices. The id goes into the e-mail address to keep it unique."""
    code = rng.choices(COUNTRY_CODES, cum_weights=COUNTRY_CUM_WEIGHTS)[0]
    country = COUNTRIES[code]
    group = rng.choice(country["names"] if rng.random() < 0.88 else list(FIRST))
    (first, first_slug), (last, last_slug) = rng.choice(FIRST[group]), rng.choice(LAST[group])
    if group == "en" and rng.random() < 0.08:
        first += f" {rng.choice(UPPER)}."
    style = rng.random()
    local = (f"{first_slug}.{last_slug}.{customer_id}" if style < 0.55 else
             f"{first_slug}{last_slug}{customer_id}" if style < 0.7 else
             f"{first_slug[0]}.{last_slug}.{customer_id}" if style < 0.85 else
             f"{first_slug}_{last_slug}_{customer_id}")
    city, state, postal = rng.choice(country["cities"])
    company = _company(rng, code, last) if rng.random() < 0.4 else dict.fromkeys(
        ("company", "company_id", "company_email", "tax_id", "vat_number"))
    address = rng.choice(country["addr"]).format(
        n=rng.randint(1, 240), a=rng.randint(1, 9), b=rng.randint(1, 40),
        s=rng.choice(STREETS[country["streets"]]))
    return {"name": f"{first} {last}", "email": f"{local}@{rng.choice(EMAIL_DOMAINS)}",
            "company": company["company"], "company_id": company["company_id"],
            "company_email": company["company_email"], "tax_id": company["tax_id"],
            "phone": fill(rng, country["phone"]), "address": address, "city": city,
            "state": state, "postal_code": fill(rng, postal), "country": code,
            "vat_number": company["vat_number"],
            "tax_bp": 0 if company["company"] else (US_SALES_TAX_BP.get(state, 0) if code == "US"
                                                    else country["tax_bp"])}


def _company(rng, code, last_name):
    """A company's name, billing mailbox, ids and (in the EU) a valid VAT number."""
    country = COUNTRIES[code]
    base = last_name if rng.random() < 0.4 else rng.choice(COMPANY_WORDS)
    kind = rng.choice(COMPANY_KINDS)
    name = f"{base} {kind} {rng.choice(country['suffixes'])}"
    email = f"{rng.choice(COMPANY_MAILBOXES)}@{ascii_slug(base)}{kind.lower()}.example.com"
    vat = VAT[code](rng) if code in EU else None
    pattern = country["company_id"]
    company_id = vat[pattern] if isinstance(pattern, slice) else fill(rng, pattern)
    tax_id = fill(rng, country["tax_id"]) if country["tax_id"] else None
    return {"company": name, "company_id": company_id, "company_email": email,
            "tax_id": tax_id, "vat_number": vat}
