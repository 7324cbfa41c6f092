"""Creator imports: upload a CSV file, match its columns to ours, preview its first rows, import in
the queue and follow its progress; the saved column mappings. Rules are web/imports.py's and
crm/services/column_mappings.py's."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from crm import access, importer
from crm.models import ColumnMapping
from crm.services import column_mappings
from web import imports
from web.access import can_write, get_visible, get_workable, page
from web.csv_export import csv_response
from web.forms import ImportForm, error_text, show_errors
from web.import_forms import ColumnsForm, RenameMappingForm
from web.models import ImportJob


@page
def creator_import(request):
    """Upload a CSV file; the next page matches its columns."""
    if not can_write(request.user):
        raise PermissionDenied("Your role (viewer) cannot import creators.")
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = imports.prepare_import(
                form.cleaned_data["file"], actor=request.user, encoding=form.cleaned_data["encoding"]
            )
        except ValidationError as error:
            show_errors(form, error)
        else:
            return redirect("web:import_columns", pk=job.pk)
    jobs = ImportJob.objects.filter(created_by=request.user)[:10]  # one's own, admins too
    context = {"section": "creators", "form": form, "jobs": jobs, "ttl_hours": settings.IMPORT_UPLOAD_TTL_HOURS}
    return render(request, "web/creators/import.html", context)


def _own_job(request, pk):
    return get_visible(ImportJob.objects.all(), request.user, pk=pk)


def _waiting_job(request, pk):
    """A job whose columns are still to be matched; one already started shows its progress instead."""
    job = get_workable(ImportJob.objects.all(), request.user, pk=pk)
    return job, job.status != ImportJob.Status.MAPPING


@page
def import_columns(request, pk: int):
    """The file's columns, each with the field we guessed (or a saved mapping chose), to change or ignore."""
    job, started = _waiting_job(request, pk)
    if started:
        return redirect("web:import", pk=job.pk)
    form = ColumnsForm(request.POST or None, headers=job.headers, mapping=job.mapping)
    if request.method == "POST" and form.is_valid():
        try:
            imports.set_mapping(
                job,
                form.mapping(),
                actor=request.user,
                save_as=form.cleaned_data["save_as"],
                for_team=form.cleaned_data["for_team"],
            )
        except ValidationError as error:
            show_errors(form, error)
        else:
            return redirect("web:import_preview", pk=job.pk)
    # What the guess left to the person, said before they press anything (after a POST, the form says it).
    hints = importer.mapping_problems(job.headers, job.mapping) if request.method == "GET" else {}
    samples = imports.column_samples(job)
    offered = column_mappings.offered_mapping(job.headers, request.user)
    columns = [
        (field, samples[position], hints.get(str(position), [])) for position, field in enumerate(form.column_fields())
    ]
    context = {
        "section": "creators",
        "job": job,
        "form": form,
        "columns": columns,
        "offered": offered,
        "general": hints.get("__all__", []),
    }
    return render(request, "web/creators/import_columns.html", context)


@page
def import_preview(request, pk: int):
    """The first rows as they will be stored, problems on their cells; "Import" queues it, "Back" rematches."""
    job, started = _waiting_job(request, pk)
    if started:
        return redirect("web:import", pk=job.pk)
    if importer.mapping_problems(job.headers, job.mapping):
        return redirect("web:import_columns", pk=job.pk)
    if request.method == "POST":
        try:
            imports.confirm_import(job)
        except ValidationError as error:
            messages.error(request, error_text(error))
            return redirect("web:import_columns", pk=job.pk)
        return redirect("web:import", pk=job.pk)
    error, repeats = "", None
    try:
        rows = imports.preview_job(job)
        repeats = imports.repeats_in_job(job)
    except importer.ImportFileError as refused:
        rows, error = [], str(refused)
    pairs = list(enumerate(zip(job.headers, job.mapping, strict=True)))
    shown = [(position, header, target) for position, (header, target) in pairs if target]
    labels = importer.FIELD_LABELS
    context = {
        "section": "creators",
        "job": job,
        "rows": [(row, [row.cells[position] for position, _, _ in shown]) for row in rows],
        "error": error,
        "repeats": repeats,
        "shown": [(header, labels[target]) for _, header, target in shown],
        "ignored": [header for _, (header, target) in pairs if not target],
    }
    return render(request, "web/creators/import_preview.html", context)


@page
def import_status(request, pk: int):
    """An import's progress; htmx polls the fragment until it is finished, then the rejected rows show."""
    job = _own_job(request, pk)
    if job.status == ImportJob.Status.MAPPING:
        return redirect("web:import_columns", pk=job.pk)
    template = (
        "web/creators/_import_status.html" if request.headers.get("HX-Request") else "web/creators/import_status.html"
    )
    return render(request, template, {"section": "creators", "job": job, "rejections": job.rejections[:500]})


@page
def import_rejections(request, pk: int):
    """The rejected rows as they were in the file, with the line and every reason added at the end: fix
    them in a spreadsheet and upload the file again (the importer skips the two added columns)."""
    job = _own_job(request, pk)
    header, rows = imports.rejected_rows(job)
    return csv_response(f"import-{job.pk}-rejected.csv", header, rows)


@page
def import_mappings(request):
    """The saved column mappings this person may use: their own and the team's."""
    saved = access.visible(ColumnMapping.objects.select_related("owner"), request.user)
    items = [(mapping, access.can_change(mapping, request.user)) for mapping in saved]
    return render(request, "web/creators/import_mappings.html", {"section": "creators", "items": items})


@require_POST
@page
def import_mapping_rename(request, pk: int):
    saved = get_workable(ColumnMapping.objects.all(), request.user, pk=pk)
    form = RenameMappingForm(request.POST)
    if form.is_valid():
        try:
            column_mappings.rename_mapping(saved, form.cleaned_data["name"], actor=request.user)
        except ValidationError as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, f"Renamed to “{saved.name}”.")
    else:
        messages.error(request, error_text(ValidationError(form.errors)))
    return redirect("web:import_mappings")


@require_POST
@page
def import_mapping_delete(request, pk: int):
    saved = get_workable(ColumnMapping.objects.all(), request.user, pk=pk)
    column_mappings.delete_mapping(saved, actor=request.user)
    messages.success(request, f"Deleted the mapping “{saved.name}”; files with its columns will be guessed again.")
    return redirect("web:import_mappings")
