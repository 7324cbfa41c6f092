"""Permission requests' territories as ISO codes ("gb, Ireland" -> "GB, IE"); values that name no
country or region stay as they were written (readable, and covering nothing in crm/services/usage.py)."""

from django.db import migrations

from crm import territories


def normalise(apps, schema_editor):
    PermissionRequest = apps.get_model("crm", "PermissionRequest")
    for pk, territory in PermissionRequest.objects.values_list("pk", "territory").iterator():
        try:
            value = territories.normalise(territory)
        except territories.UnknownTerritory:
            continue
        if value != territory:
            PermissionRequest.objects.filter(pk=pk).update(territory=value)


class Migration(migrations.Migration):
    dependencies = [("crm", "0013_creator_merged_into")]

    operations = [migrations.RunPython(normalise, migrations.RunPython.noop)]
