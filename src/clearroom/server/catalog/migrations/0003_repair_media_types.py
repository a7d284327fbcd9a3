"""Media types were stored unchecked, so a value such as ``text/plain\r\nX-Evil: 1`` made its
file impossible to download (500). Uploads now check RFC 6838's grammar; this sets every stored
value that fails it (artifacts, documents, message attachments) to application/octet-stream."""

from django.db import migrations

from clearroom.server.catalog.names import is_media_type

FALLBACK = "application/octet-stream"
MODELS = (("catalog", "Artifact"), ("catalog", "Document"), ("collaboration", "Attachment"))


def repair(apps, schema_editor):
    for app, name in MODELS:
        model = apps.get_model(app, name)
        rows = model.objects.values_list("pk", "media_type").iterator(chunk_size=2000)
        bad = [pk for pk, media_type in rows if not is_media_type(media_type)]
        for start in range(0, len(bad), 500):
            model.objects.filter(pk__in=bad[start : start + 500]).update(media_type=FALLBACK)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_accessgrant_release"),
        ("collaboration", "0002_evaluation_catalogue"),
    ]

    operations = [migrations.RunPython(repair, migrations.RunPython.noop)]
