"""E-signature (issue 14): signature requests, signers and the sealed, executed contract PDF."""

import warnings

from cryptography.utils import CryptographyDeprecationWarning

# pyHanko imports cryptography's DSA support (for PDFs others signed with DSA; our seal never
# uses it), which warns on every process start: noise in every command a new user runs.
warnings.filterwarnings(
    "ignore", message="DSA is deprecated", category=CryptographyDeprecationWarning
)
