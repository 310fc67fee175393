"""The one rule for how much commission goes back when part of a sale is refunded."""


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
