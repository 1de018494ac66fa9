from django.core.checks import registry

from contracts.checks import pdf_font_subsetting


def test_harfbuzz_subset_is_installed_here():
    # .ci/run installs it; a machine without it renders contract PDFs ten times slower.
    assert pdf_font_subsetting() == []


def test_a_machine_without_harfbuzz_subset_is_warned_with_the_package_to_install():
    [warning] = pdf_font_subsetting(library="libharfbuzz-subset-absent.so.0")
    assert warning.id == "contracts.W001"
    assert warning.hint == "On Debian: apt-get install libharfbuzz-subset0"


def test_the_check_runs_with_django_s_checks():
    assert pdf_font_subsetting in registry.registry.get_checks()
