"""DocuSign, the vendor side of e-signature: the eSignature REST client over plain dataclasses
(`client`) and the Connect webhook's signature check (`connect`). The SDK is imported here
and nowhere else."""
