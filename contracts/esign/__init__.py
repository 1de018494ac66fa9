"""E-signature (issue 14): signing requests and the sealed, executed contract PDF."""
