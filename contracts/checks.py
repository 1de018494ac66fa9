"""System checks for what contract rendering needs from the machine."""

import ctypes

from django.core.checks import Warning, register

# The name WeasyPrint loads it by on Linux (weasyprint.text.ffi).
HARFBUZZ_SUBSET = "libharfbuzz-subset.so.0"


@register()
def pdf_font_subsetting(
    app_configs=None, library: str = HARFBUZZ_SUBSET, **kwargs
) -> list[Warning]:
    # Without it WeasyPrint subsets fonts with fontTools: about 4 s for a PDF that embeds Noto
    # CJK (a Japanese legal name) against 0.06 s with HarfBuzz, measured on the CI machine.
    # Debian installs it only as a dependency of other packages (chromium), so it is easy to miss.
    try:
        ctypes.CDLL(library)
    except OSError:
        return [
            Warning(
                "HarfBuzz-Subset is not installed: contract PDFs take seconds to render "
                "instead of a fraction of one (WeasyPrint falls back to fontTools).",
                hint="On Debian: apt-get install libharfbuzz-subset0",
                id="contracts.W001",
            )
        ]
    return []
