"""The errors an admin can see. Each carries a message the admin can act on."""


class ActionError(Exception):
    """A refused or failed admin operation; `message` is shown as is."""

    #: set by an action function that already wrote an audit entry for this failure
    audited = False

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class NotAllowed(ActionError):
    """The admin's role does not allow this operation."""


class InvalidRequest(ActionError):
    """The request breaks a business rule; nothing was changed."""


class EmailFailed(ActionError):
    """The mail server refused the message or could not be reached."""


class GatewayError(ActionError):
    """The payment system refused or failed an operation.

    `outcome_unknown` is True when the gateway may have acted (timeout, connection lost,
    5xx): the same call with the same idempotency key is then safe to repeat.
    """

    outcome_unknown = False

    def __init__(self, message, *, gateway, code=None):
        super().__init__(message)
        self.gateway = gateway
        self.code = code


class GatewayNotConfigured(GatewayError):
    """No credentials for this payment system: nothing was sent."""


class GatewayDeclined(GatewayError):
    """The payment system answered no; nothing happened there."""


class GatewayUnavailable(GatewayError):
    """No usable answer (timeout, connection, 5xx): the outcome at the gateway is unknown."""

    outcome_unknown = True
