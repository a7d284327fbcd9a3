import pytest
from django.conf import settings


@pytest.mark.django_db
def test_settings_use_the_per_run_data_dir(data_dir):
    assert settings.CONFIG.data_dir == data_dir
