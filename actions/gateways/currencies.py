"""Currency exponents per gateway, in one table: how an amount we store is written in each
gateway's API, and back.

We store integer minor units of ISO 4217 as CLDR gives them (Babel's
get_currency_precision: USD 2, JPY 0, ISK 0, HUF 2, TWD 2, UGX 0, KWD 3). A gateway that
writes a currency with another number of decimals, or only in steps, is listed here:

Stripe ("Supported currencies": amounts are integers in the currency's smallest unit) —
- zero-decimal BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF: as ours;
- ISK is zero-decimal but, for backwards compatibility, written in two-decimal form: 5 ISK
  is `500`, and the value must be divisible by 100 (no fractions of a króna);
- HUF and TWD take two-decimal amounts in charges and refunds (as ours); Stripe treats them
  as zero-decimal only for payouts, which the panel does not make. UGX's special rule is a
  payout rule too; charges and refunds are zero-decimal (as ours);
- three-decimal BHD JOD KWD OMR TND: the last digit must be 0 (5.124 KWD cannot be sent).

PayPal (currency codes: "this currency does not support decimals") — HUF, JPY and TWD are
written without decimals: 1000 HUF is "1000", and 1000.50 HUF cannot be sent.
"""
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import get_currency_precision

from actions.errors import InvalidRequest


@dataclass(frozen=True)
class Rule:
    """A gateway's way with one currency: its API's decimals, and the step its own minor
    units must come in (ISK at Stripe: 100; three-decimal currencies at Stripe: 10)."""

    decimals: int
    step: int = 1


STRIPE = {"ISK": Rule(2, step=100),
          **{code: Rule(3, step=10) for code in ("BHD", "JOD", "KWD", "OMR", "TND")}}
PAYPAL = {code: Rule(0) for code in ("HUF", "JPY", "TWD")}
TABLES = {"stripe": STRIPE, "paypal": PAYPAL}
NAMES = {"stripe": "Stripe", "paypal": "PayPal"}


def ours(currency):
    """The decimals of the minor units we store."""
    return get_currency_precision(currency.upper())


def rule(gateway, currency):
    currency = currency.upper()
    return TABLES[gateway].get(currency) or Rule(ours(currency))


def to_gateway_units(gateway, cents, currency, purpose="sent"):
    """Our minor units -> the gateway's integer units; InvalidRequest (nothing sent) when
    the gateway cannot take that amount."""
    currency = currency.upper()
    r = rule(gateway, currency)
    shift = r.decimals - ours(currency)
    value = Decimal(int(cents)).scaleb(shift)
    if value != value.to_integral_value() or int(value) % r.step:
        shown = Decimal(int(cents)).scaleb(-ours(currency))
        raise InvalidRequest(
            f"{NAMES[gateway]} takes {currency} amounts only in steps of "
            f"{Decimal(r.step).scaleb(-r.decimals).normalize():f} {currency}; "
            f"{shown} {currency} cannot be {purpose} through {NAMES[gateway]}.")
    return int(value)


def from_gateway_units(gateway, amount, currency):
    """The gateway's integer units -> our minor units."""
    currency = currency.upper()
    shift = ours(currency) - rule(gateway, currency).decimals
    return int(Decimal(int(amount)).scaleb(shift).to_integral_value(ROUND_HALF_UP))


def to_stripe(cents, currency, purpose="sent"):
    return to_gateway_units("stripe", cents, currency, purpose)


def from_stripe(amount, currency):
    return from_gateway_units("stripe", amount, currency)


def to_paypal(cents, currency, purpose="sent"):
    """Our minor units -> PayPal's decimal string: (1000, 'EUR') -> '10.00', JPY -> '1000'."""
    r = rule("paypal", currency)
    units = to_gateway_units("paypal", cents, currency, purpose)
    return f"{Decimal(units).scaleb(-r.decimals):.{r.decimals}f}"


def from_paypal(value, currency):
    """PayPal's decimal string ("49.00", "1000") -> our minor units."""
    return int(Decimal(str(value)).scaleb(ours(currency)).to_integral_value(ROUND_HALF_UP))
