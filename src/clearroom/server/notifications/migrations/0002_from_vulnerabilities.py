"""Vulnerability notifications move here from the vulnerabilities app."""

from django.db import migrations


def copy(apps, schema_editor):  # type: ignore[no-untyped-def]
    old = apps.get_model("vulnerabilities", "Notification")
    new = apps.get_model("notifications", "Notification")
    new.objects.bulk_create(
        new(
            organisation_id=n.organisation_id,
            kind="vulnerability",
            text=n.text,
            release_id=n.release_id,
            created_at=n.created_at,
            read_at=n.read_at,
        )
        for n in old.objects.all().iterator()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("vulnerabilities", "0001_initial"),
    ]
    operations = [migrations.RunPython(copy, migrations.RunPython.noop)]
