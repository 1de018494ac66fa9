"""The error every e-signature service and backend raises for a request a person made that
the request's state or their input does not allow; its message is for them."""


class SignatureError(ValueError):
    pass
