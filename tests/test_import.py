"""Creator import: upserts by handle, reports bad rows by line, refuses wrong files whole."""

import io
import tracemalloc

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.importer import ImportFileError, import_creators
from crm.models import Creator, SocialAccount, Tag
from tests.conftest import run_manage
from tests.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db

GOOD = """name,email,instagram,instagram_followers,tiktok,tags,country,language
Jane Doe,Jane@Example.com,@Jane.Doe,12.5k,https://www.tiktok.com/@janed,Beauty;skincare,gb,en
Leo Hart,leo@example.com,https://instagram.com/leo.hart/,"1,200",,fitness,US,en-US
"""


def csv_file(text: str, encoding="utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


def run(text, **kwargs):
    return import_creators(csv_file(text), **kwargs)


def test_it_creates_creators_with_their_accounts_and_tags():
    result = run(GOOD)
    assert (result.rows, result.created, result.updated, result.rejected) == (2, 2, 0, 0)
    jane = Creator.objects.get(email="jane@example.com")
    assert (jane.name, jane.country, jane.language) == ("Jane Doe", "GB", "en")
    assert {(a.platform, a.handle, a.follower_count) for a in jane.accounts.all()} == {
        ("instagram", "jane.doe", 12_500),
        ("tiktok", "janed", None),
    }
    assert sorted(jane.tags.values_list("name", flat=True)) == ["Beauty", "skincare"]
    assert SocialAccount.objects.get(handle="leo.hart").follower_count == 1200


def test_importing_the_same_file_twice_updates_instead_of_duplicating():
    run(GOOD)
    result = run(GOOD.replace("12.5k", "13k").replace("Leo Hart", "Leo B. Hart"))
    assert (result.created, result.updated) == (0, 2)
    assert Creator.objects.count() == 2
    assert SocialAccount.objects.count() == 3
    assert Tag.objects.count() == 3
    assert SocialAccount.objects.get(handle="jane.doe").follower_count == 13_000
    assert Creator.objects.filter(name="Leo B. Hart").exists()


def test_a_row_finds_its_creator_by_any_spelling_of_a_handle_and_empty_cells_keep_values():
    run(GOOD)
    result = run("name,email,instagram,x\nJane D.,,INSTAGRAM.COM/Jane.Doe,@janedoe\n")
    assert (result.created, result.updated) == (0, 1)
    jane = Creator.objects.get(accounts__handle="jane.doe")
    assert (jane.name, jane.email) == ("Jane D.", "jane@example.com")
    assert set(jane.accounts.values_list("platform", flat=True)) == {"instagram", "tiktok", "x"}


def test_a_row_without_handles_upserts_by_email():
    run("name,email\nMaya,maya@example.com\n")
    result = run("name,email,country\nMaya Hart,MAYA@example.com,DE\nMaya Hart,maya@example.com,DE\n")
    assert (result.created, result.updated) == (0, 1)
    assert Creator.objects.get().country == "DE"


def test_bad_rows_are_reported_with_line_and_column_and_good_rows_are_kept():
    text = (
        "name,email,instagram,instagram_followers,x,country\n"
        "Good One,good@example.com,good.one,100,,GB\n"  # line 2
        ",nobody@example.com,nobody,,,\n"  # line 3: no name
        "Bad Email,not-an-email,bad.email,,,\n"  # line 4
        '"Multi\nLine",multi@example.com,multi,,,\n'  # lines 5-6: fine
        "Bad Handle,,https://www.tiktok.com/@wrong,,,\n"  # line 7
        "Bad Count,,count,lots,,\n"  # line 8
        "Too Long X,,,,this_is_far_too_long_for_x,\n"  # line 9
        "Short,,short\n"  # line 10: missing fields
        "No Id,,,,,FR\n"  # line 11
        "Bad Country,,country.ok,,,England\n"  # line 12
        "Good Two,,good.two,,,\n"  # line 13
    )
    result = run(text)
    assert (result.rows, result.created, result.rejected) == (11, 3, 8)
    found = {(r.line, r.column) for r in result.rejections}
    assert found == {
        (3, "name"),
        (4, "email"),
        (7, "instagram"),
        (8, "instagram_followers"),
        (9, "x"),
        (10, ""),
        (11, ""),
        (12, "country"),
    }
    reasons = {r.line: r.reason for r in result.rejections}
    assert "tiktok URL" in reasons[7]
    assert "has 3 fields; the header has 6" in reasons[10]
    assert "needs at least one platform handle or an email" in reasons[11]
    assert set(Creator.objects.values_list("name", flat=True)) == {"Good One", "Multi Line", "Good Two"}


def test_handles_of_two_different_creators_in_one_row_are_refused():
    SocialAccountFactory(platform="instagram", handle="anna")
    SocialAccountFactory(platform="tiktok", handle="bella")
    result = run("name,instagram,tiktok\nWho,anna,bella\n")
    assert result.rejected == 1
    assert "handles belong to different creators" in result.rejections[0].reason
    assert Creator.objects.filter(name="Who").count() == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"   \n\n", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV file"),
        (b"name,instagram\n", "has a header but no rows"),
        (b'{"creators": [1, 2]}\n', "Unknown column(s)"),
        (b"name,instagram,shoe_size\nJane,jane,42\n", "Unknown column(s): shoe_size"),
        (b"name,instagram,instagram\nJane,a,b\n", "given twice: instagram"),
        (b"email,country\na@example.com,GB\n", "needs a 'name' column"),
        (b"name,country\nJane,GB\n", "needs an 'email' column or at least one platform column"),
        ("name,instagram\nJosé,jose\nZoë,zoe\n".encode("latin-1"), "Line 2 is not valid UTF-8 (byte 0xe9)"),
        (b'name,instagram\n"unterminated,jane\n', "not a readable CSV file"),
    ],
)
def test_a_wrong_file_is_refused_whole_and_changes_nothing(content, message):
    with pytest.raises(ImportFileError) as error:
        import_creators(io.BytesIO(content))
    assert message in str(error.value)
    assert not Creator.objects.exists()


def test_a_bad_byte_far_down_the_file_still_changes_nothing():
    good_rows = "".join(f"Creator {n},,handle_{n}\n" for n in range(3000))
    content = ("name,email,instagram\n" + good_rows).encode() + "Zoë,,zoe\n".encode("latin-1")
    with pytest.raises(ImportFileError, match="Line 3002 is not valid UTF-8"):
        import_creators(io.BytesIO(content), batch_size=500)
    assert not Creator.objects.exists()


def test_other_encodings_and_delimiters_and_a_bom_are_read_when_given():
    result = import_creators(csv_file("name;instagram\nJosé;jose\n", "latin-1"), encoding="latin-1")
    assert result.created == 1
    assert Creator.objects.get().name == "José"
    result = import_creators(io.BytesIO("\ufeffname\tinstagram\nZoë\tzoe\n".encode()))
    assert result.created == 1
    assert Creator.objects.filter(name="Zoë").exists()


def test_a_dry_run_counts_everything_and_writes_nothing():
    result = run(GOOD + "Bad,,,,,,England,\n", dry_run=True)
    assert (result.created, result.rejected, result.dry_run) == (2, 1, True)
    assert not Creator.objects.exists()
    assert not Tag.objects.exists()


def test_tags_match_whatever_their_case():
    Tag.objects.create(name="Skincare")
    run('name,instagram,tags\nA,a_a,skincare|Travel\nB,b_b,"SKINCARE, travel"\n')
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["Skincare", "Travel"]
    assert Creator.objects.get(name="B").tags.count() == 2


def test_the_number_of_queries_does_not_grow_with_the_rows_of_a_batch():
    def queries_for(rows):
        text = "name,instagram,tiktok,tags\n" + "".join(
            f"C{n},ig_{rows}_{n},tt_{rows}_{n},t{n % 3}\n" for n in range(rows)
        )
        with CaptureQueriesContext(connection) as captured:
            import_creators(csv_file(text), batch_size=1000)
        return len(captured)

    queries_for(10)  # creates the three tags once
    few, many = queries_for(20), queries_for(900)
    if connection.vendor == "postgresql":
        assert many == few
    else:  # SQLite caps a statement at 999 parameters, so Django splits bulk inserts
        assert many <= few + 900 // 25, (few, many)


@pytest.mark.slow(seconds=7)
def test_memory_stays_flat_as_the_file_grows():
    """Eight times the rows, nearly the same peak: one batch at a time. Sized to fail (checked by hand)
    if the importer kept the file's parsed rows (the larger peak 2.7 times the smaller) or read it as
    one batch (6.5 times), where streaming stays at 1.1-1.3; half the rows of before, same batches."""

    def peak_for(rows):
        text = "name,email,instagram,tags\n" + "".join(
            f"Creator {rows}-{n},c{rows}-{n}@example.com,h{rows}_{n},tag{n % 5}\n" for n in range(rows)
        )
        source = csv_file(text)
        tracemalloc.start()
        import_creators(source, batch_size=500)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak

    small, large = peak_for(500), peak_for(4000)
    assert large < small * 1.6, (small, large)


def test_the_command_reports_rejected_rows_to_a_file(tmp_path, alice):
    path = tmp_path / "creators.csv"
    path.write_text(GOOD + "Bad,,,,,,England,\n")
    out = io.StringIO()
    call_command("import_creators", str(path), "--owner", "alice", "--no-progress", stdout=out)
    assert "3 rows read: 2 creators were created, 0 updated, 3 accounts added, 1 rows rejected." in out.getvalue()
    assert set(Creator.objects.values_list("owner__username", flat=True)) == {"alice"}
    report = (tmp_path / "creators.rejected.csv").read_text().splitlines()
    assert report == ["line,column,value,reason", '4,country,England,"use a two-letter ISO 3166 code, e.g. GB or US"']


def test_the_command_dry_run_and_unknown_owner(tmp_path):
    path = tmp_path / "creators.csv"
    path.write_text(GOOD)
    out = io.StringIO()
    call_command("import_creators", str(path), "--dry-run", "--no-progress", stdout=out)
    assert "2 creators would be created" in out.getvalue()
    assert "Dry run: nothing was written" in out.getvalue()
    assert not Creator.objects.exists()
    assert not (tmp_path / "creators.rejected.csv").exists()
    with pytest.raises(CommandError, match="no user named 'zed'"):
        call_command("import_creators", str(path), "--owner", "zed")


def test_the_command_refuses_a_wrong_file_with_a_clear_message_and_no_traceback(tmp_path):
    path = tmp_path / "creators.csv"
    path.write_text("handle,followers\na,1\n")
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}
    result = run_manage("import_creators", str(path), env=env)
    assert result.returncode == 1
    assert "Unknown column(s): handle, followers" in result.stderr
    assert "Nothing was imported." in result.stderr
    assert "Traceback" not in result.stderr
    missing = run_manage("import_creators", str(tmp_path / "nope.csv"), env=env)
    assert missing.returncode == 1
    assert "Cannot read" in missing.stderr and "Traceback" not in missing.stderr


def test_new_handles_of_a_creator_known_by_email_join_them_and_keep_their_opt_out():
    from django.utils import timezone

    run("name,email,instagram\nJane,jane@example.com,jane.one\n")
    Creator.objects.update(opted_out_at=timezone.now())
    result = run("name,email,tiktok\nJane,JANE@example.com,jane.two\n")
    assert (result.created, result.updated) == (0, 1)
    creator = Creator.objects.get()
    assert set(creator.accounts.values_list("handle", flat=True)) == {"jane.one", "jane.two"}
    assert creator.opted_out_at is not None
    assert not Creator.objects.contactable().exists()


def test_values_longer_than_their_columns_are_rejected_by_line():
    long_email = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".com"
    text = (
        "name,email,instagram,instagram_followers,language\n"
        f"Long Mail,{long_email},long.mail,,\n"
        "Huge,,huge.count,99999999999999999999,\n"
        "Tongue,,tongue,,en-aaaaaaaa-bbbbbbbb\n"
        "Fine,,fine,,\n"
    )
    result = run(text)
    assert {(r.line, r.column) for r in result.rejections} == {
        (2, "email"),
        (3, "instagram_followers"),
        (4, "language"),
    }
    assert list(Creator.objects.values_list("name", flat=True)) == ["Fine"]


@pytest.mark.parametrize(
    ("written", "followers"),
    [("3.200", 3200), ("3,200", 3200), ("23,4k", 23_400), ("23.4k", 23_400), ("1 234 567", 1_234_567),
     ("12'500", 12_500), ("1.2M", 1_200_000), ("950", 950)],
)  # fmt: skip
def test_follower_counts_are_read_in_any_locale(written, followers):
    result = run(f'name,instagram,instagram_followers\nMaya,@maya,"{written}"\n')
    assert result.rejected == 0
    assert SocialAccount.objects.get(handle="maya").follower_count == followers


@pytest.mark.parametrize("written", ["3.2", "23,45", "1,2.3", "1,234.567", "12.5.k"])
def test_a_follower_count_that_cannot_be_read_for_sure_flags_the_row(written):
    result = run(f'name,instagram,instagram_followers\nMaya,@maya,"{written}"\n')
    assert result.rejected == 1 and not SocialAccount.objects.exists()
    assert "12.500" in result.rejections[0].reason and result.rejections[0].row["instagram_followers"] == written


def test_rows_about_the_same_person_are_merged_reported_and_counted():
    SocialAccountFactory(platform="instagram", handle="known")
    text = (
        "name,email,instagram,tiktok\n"
        "Maya Hart,maya@example.com,@maya,\n"  # line 2: new
        "Maya H.,,,@maya.tt\n"  # line 3: new (no shared key)
        "Maya Hart,,https://instagram.com/maya/,@maya.tt\n"  # line 4: both earlier rows' handles: refused
        "Known One,,@known,\n"  # line 5: already known, updated
        "Maya Hart,MAYA@example.com,,\n"  # line 6: line 2's email: merged
        "Known One,,@Known,\n"  # line 7: line 5 again: merged
        "Nobody,,,\n"  # line 8: rejected
    )
    result = run(text)
    assert (result.created, result.updated, result.merged, result.rejected) == (2, 1, 2, 2)
    assert result.created + result.updated + result.merged + result.rejected == result.rows == 7
    assert [(d.line, d.first_line) for d in result.duplicates] == [(6, 2), (7, 5)]
    assert Creator.objects.filter(name="Maya Hart").count() == 1
