from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("vulnerabilities", "0001_initial"),
        ("notifications", "0002_from_vulnerabilities"),
    ]
    operations = [migrations.DeleteModel(name="Notification")]
