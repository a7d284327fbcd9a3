"""API token scopes take the permissions' ``<scope>:<resource>:<action>`` names."""

from django.db import migrations

RENAMED = {
    "organisation:manage": ["org:member:manage"],
    "keys:manage": ["org:key:manage"],
    "product:write": ["vendor:product:write"],
    "release:write": ["vendor:release:write"],
    "release:publish": ["vendor:release:publish"],
    "confidential:read": ["material:confidential:read"],
}


def rename(apps, schema_editor, table=RENAMED):  # type: ignore[no-untyped-def]
    token_model = apps.get_model("accounts", "ApiToken")
    for token in token_model.objects.all():
        scopes = [new for old in token.scopes for new in table.get(old, [old])]
        if scopes != token.scopes:
            token.scopes = sorted(set(scopes))
            token.save(update_fields=["scopes"])


def unrename(apps, schema_editor):  # type: ignore[no-untyped-def]
    back = {new[0]: [old] for old, new in RENAMED.items()}
    rename(apps, schema_editor, back)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_initial")]
    operations = [migrations.RunPython(rename, unrename)]
