import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("collaboration", "0002_evaluation_catalogue"),
    ]

    operations = [
        migrations.RenameField(
            model_name="checkresult",
            old_name="created_at",
            new_name="checked_at",
        ),
        migrations.AlterField(
            model_name="checkresult",
            name="checked_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, help_text="When it last ran."
            ),
        ),
    ]
