"""The rules of commission: what it is earned on (commission_base) and how much goes back
when part of a sale is refunded or lost to a dispute (commission_reversal)."""


def commission_reversal(commission_cents, net_cents, amount_cents):
    """The share of the commission that goes with refunding amount_cents of net_cents.

    Proportional, rounded half up, never more than the commission left; refunding all that
    is left reverses the whole commission.
    """
    if net_cents <= 0 or not commission_cents or amount_cents <= 0:
        return 0
    if amount_cents >= net_cents:
        return commission_cents
    return min(commission_cents, (commission_cents * amount_cents + net_cents // 2) // net_cents)


def commission_base(amount_cents, tax_cents, refunded_cents=0, disputed_cents=0):
    """What an affiliate's rate applies to: the part of the sale the business kept (after
    refunds and lost disputes), without its share of the tax; rounded half up."""
    if amount_cents <= 0:
        return 0
    kept = max(amount_cents - refunded_cents - disputed_cents, 0)
    return kept - (tax_cents * kept + amount_cents // 2) // amount_cents


def sale_base(tx):
    """commission_base of a payment as it stands."""
    return commission_base(tx.amount_cents, tx.tax_cents or 0, tx.refunded_cents,
                           tx.disputed_cents or 0)
