from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_demo_data_names_where_it_keeps_the_passwords(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    output = StringIO()
    call_command("demo_data", stdout=output)
    assert f"kept in {tmp_path / 'demo-users.json'}" in output.getvalue()
    assert (tmp_path / "demo-users.json").exists()
