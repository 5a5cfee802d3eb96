"""What every side must do (integration.engine.sides.Side), run against each side of `kits.KITS`: `DjangoSide` on
a model in the couplings' database and on Sales (in a database of its own in CI's PostgreSQL pass), and `MemorySide`.
A side reached over HTTP adds its kit and runs the same tests."""

from integration.engine.sides import CannotAnswer, MatchQuery, Written
from tests.contract.kits import insert


def read_all(side, since=None, **options):
    changes = side.changes(since, **options)
    pages = list(changes)
    return pages, changes.cursor


# -- the side itself ---------------------------------------------------------------------------------------------------
def test_a_side_answers_its_health_check(kit):
    health = kit.side.health()
    assert health.ok and health.message == ""


def test_a_side_names_its_key_and_modified_fields_and_its_system(kit):
    side = kit.side
    assert side.key in ("erp", "crm") and side.label and side.key_name and side.modified_name
    assert side.system_name in ("Sales", "ERP")


# -- keys chosen before writing ----------------------------------------------------------------------------------------
def test_new_keys_are_distinct_and_as_many_as_asked(kit):
    keys = kit.side.new_keys(5)
    assert len(keys) == 5
    chosen = [key for key in keys if key is not None]
    assert len(set(chosen)) == len(chosen) and chosen in ([], keys)


def test_a_row_inserted_with_a_chosen_key_keeps_it(kit):
    """(Or, where the side's database gives keys only when it writes, an ERP table on SQLite, the write tells it.)"""
    side = kit.side
    key = side.new_keys(1)[0]
    [answer] = side.write(inserts=[(key, kit.values(1))], writer=kit.writer)
    assert answer.ok and answer.key is not None and answer.key == (key if key is not None else answer.key)
    assert side.key_of(side.rows([answer.key])[answer.key]) == answer.key


# -- writing -----------------------------------------------------------------------------------------------------------
def test_a_write_answers_each_row_in_order_with_its_new_modified_on(kit):
    side = kit.side
    keys = side.new_keys(3)
    answers = side.write(inserts=[(key, kit.values(n)) for n, key in enumerate(keys)], writer=kit.writer)
    assert [type(a) for a in answers] == [Written] * 3 and all(a.ok and a.modified is not None for a in answers)
    rows = side.rows([a.key for a in answers])
    assert [rows[a.key][kit.name_field] for a in answers] == ["Name 0000", "Name 0001", "Name 0002"]
    assert all(rows[a.key][side.modified_name] == a.modified for a in answers)


def test_a_row_the_side_refuses_fails_alone_with_its_field_and_reason(kit):
    side = kit.side
    insert(kit, 1)
    keys = side.new_keys(3)
    answers = side.write(inserts=[(keys[0], kit.values(2)), (keys[1], kit.values(1)), (keys[2], kit.values(3))],
                         writer=kit.writer)
    assert [a.ok for a in answers] == [True, False, True]
    assert answers[1].field == kit.unique_field and "K00001" in str(answers[1].reason)
    assert len(side.rows([answers[0].key, answers[2].key])) == 2


def test_an_update_changes_only_the_fields_given(kit):
    side = kit.side
    [key] = insert(kit, 1)
    [answer] = side.write(updates=[(key, {kit.name_field: "Renamed"})], writer=kit.writer)
    assert answer.ok and answer.key == key
    row = side.rows([key])[key]
    assert row[kit.name_field] == "Renamed" and row[kit.unique_field] == "K00001"


def test_an_update_moves_the_modified_on(kit):
    side = kit.side
    [key] = insert(kit, 1)
    before = side.rows([key])[key][side.modified_name]
    [answer] = side.write(updates=[(key, {kit.name_field: "Renamed"})], writer=kit.writer)
    assert answer.modified >= before and side.rows([key])[key][side.modified_name] == answer.modified


def test_an_update_of_a_row_that_is_gone_fails_that_row(kit):
    side = kit.side
    kept, gone = insert(kit, 1, 2)
    kit.delete_outside(gone)
    answers = side.write(updates=[(gone, {kit.name_field: "X"}), (kept, {kit.name_field: "Y"})], writer=kit.writer)
    assert [(a.key, a.ok) for a in answers] == [(gone, False), (kept, True)]
    assert answers[0].reason


# -- reading by keys ---------------------------------------------------------------------------------------------------
def test_rows_by_keys_leave_missing_keys_out(kit):
    side = kit.side
    keys = insert(kit, 1, 2)
    kit.delete_outside(keys[1])
    assert list(side.rows(keys)) == [keys[0]]


def test_rows_by_keys_hold_the_fields_asked_with_the_key_and_modified_on(kit):
    side = kit.side
    [key] = insert(kit, 1)
    row = side.rows([key], fields=[kit.name_field])[key]
    assert set(row) == {side.key_name, side.modified_name, kit.name_field}


# -- changes since a cursor --------------------------------------------------------------------------------------------
def test_changes_from_the_start_give_every_row_once_in_key_order(kit):
    """In the order of the primary key, as the databases here and p2c's Web API page (Dataverse promises no order of
    pages without $orderby, and the engine asks none of a side over HTTP)."""
    side = kit.side
    keys = insert(kit, *range(7))
    pages, _ = read_all(side)
    read = [side.key_of(row) for page in pages for row in page]
    assert read == sorted(keys)


def test_changes_keep_to_a_key_range_in_the_sides_order_of_keys(kit):
    """The ranges of a partitioned run are cut in the side's order of keys (`Side.key_order`): Dataverse compares
    GUIDs as SQL Server orders them, not as Python does. Ranges cut so cover every row once."""
    from itertools import pairwise

    side = kit.side
    keys = sorted(insert(kit, *range(9)), key=side.key_order)
    edges = [None, keys[3], keys[6], None]
    read = []
    for low, high in pairwise(edges):
        pages, _ = read_all(side, key_range=(low, high))
        read += [side.key_of(row) for page in pages for row in page]
    assert sorted(read, key=side.key_order) == keys  # none left out, none read by two ranges


def test_changes_come_in_keyset_pages_of_the_size_asked(kit):
    insert(kit, *range(7))
    pages, _ = read_all(kit.side, page_size=3)
    assert [len(page) for page in pages] == [3, 3, 1]


def test_changes_keep_to_a_key_range(kit):
    side = kit.side
    keys = sorted(insert(kit, *range(6)), key=side.key_order)
    pages, _ = read_all(side, key_range=(keys[2], keys[4]))
    assert sorted((side.key_of(row) for page in pages for row in page), key=side.key_order) == keys[2:4]
    pages, _ = read_all(side, key_range=(None, keys[1]))
    assert [side.key_of(row) for page in pages for row in page] == keys[:1]


def test_changes_since_a_cursor_hold_every_row_changed_after_it(kit):
    side = kit.side
    _, second = insert(kit, 1, 2)
    _, cursor = read_all(side)
    assert cursor is not None
    kit.change_outside(second, "Changed elsewhere")
    [third] = insert(kit, 3)
    pages, _ = read_all(side, cursor)
    read = {side.key_of(row): row for page in pages for row in page}
    assert {second, third} <= set(read)
    assert read[second][kit.name_field] == "Changed elsewhere"


def test_changes_give_only_the_fields_asked_with_the_key_and_modified_on(kit):
    side = kit.side
    insert(kit, 1)
    pages, _ = read_all(side, fields=[kit.unique_field])
    assert set(pages[0][0]) == {side.key_name, side.modified_name, kit.unique_field}


def test_changed_count_counts_what_changes_would_give(kit):
    side = kit.side
    keys = sorted(insert(kit, *range(5)), key=side.key_order)
    pages, _ = read_all(side, key_range=(keys[1], None))
    assert side.changed_count(None, key_range=(keys[1], None)) == sum(map(len, pages)) == 4
    assert side.changed_count(None) == 5


# -- match candidates --------------------------------------------------------------------------------------------------
def test_match_candidates_compare_case_insensitive_fields_lower_cased(kit):
    side = kit.side
    adatum, _ = insert(kit, 1, 2, names=["Adatum Corporation", "Fabrikam"])
    found = side.match_candidates(MatchQuery(fields={kit.name_field: frozenset({"adatum corporation"})},
                                             case_insensitive=frozenset({kit.name_field})))
    assert [side.key_of(row) for row in found] == [adatum]


def test_match_candidates_compare_other_fields_exactly(kit):
    side = kit.side
    insert(kit, 1, names=["Adatum Corporation"])
    query = MatchQuery(fields={kit.name_field: frozenset({"adatum corporation"})})
    assert side.match_candidates(query) == []


def test_match_candidates_of_any_field_of_the_query(kit):
    side = kit.side
    first, second, _ = insert(kit, 1, 2, 3, names=["Adatum", "Fabrikam", "Contoso"])
    found = side.match_candidates(MatchQuery(fields={kit.name_field: frozenset({"Adatum"}),
                                                     kit.unique_field: frozenset({"K00002"})}))
    assert {side.key_of(row) for row in found} == {first, second}


def test_match_candidates_keep_to_the_scope(kit):
    side = kit.side
    _, second = insert(kit, 1, 2, names=["Adatum", "Adatum"])
    found = side.match_candidates(MatchQuery(fields={kit.name_field: frozenset({"Adatum"})},
                                             scope={kit.unique_field: frozenset({"K00002"})}))
    assert [side.key_of(row) for row in found] == [second]


def test_a_match_query_without_values_finds_nothing(kit):
    insert(kit, 1)
    assert kit.side.match_candidates(MatchQuery(fields={kit.name_field: frozenset()})) == []


# -- deletions ---------------------------------------------------------------------------------------------------------
def test_deletions_since_a_cursor_list_the_rows_deleted_after_it(kit):
    side = kit.side
    kept, gone = insert(kit, 1, 2)
    cursor = side.deletions_cursor()
    kit.delete_outside(gone)
    deletions = side.deletions(cursor)
    assert gone in deletions.keys and kept not in deletions.keys
    assert deletions.cursor is not None


def test_a_deletions_cursor_moved_past_a_runs_writes_misses_no_deletion_made_meanwhile(kit):
    """A run takes the cursor before it writes and moves it past its own writes at the end (so that the next run
    does not read them back): a row someone else deleted between the two is still listed from the cursor moved,
    as is one deleted after it; the run's own rows are not."""
    side = kit.side
    kept, gone = insert(kit, 1, 2)
    cursor = side.deletions_cursor()
    written = side.write(inserts=[(key, kit.values(n)) for n, key in zip((3, 4), side.new_keys(2), strict=True)],
                         writer=kit.writer)
    [renamed] = side.write(updates=[(kept, {kit.name_field: "Renamed"})], writer=kit.writer)
    assert all(answer.ok for answer in [*written, renamed])
    kit.delete_outside(gone)  # meanwhile: after the cursor, before it is moved
    moved = side.deletions_cursor_past_writes(cursor)
    assert gone in side.deletions(moved).keys
    quiet = side.deletions_cursor_past_writes(side.deletions(moved).cursor)
    kit.delete_outside(written[0].key)  # after the cursor is moved
    deletions = side.deletions(quiet)
    assert written[0].key in deletions.keys and not {kept, written[1].key} & deletions.keys


def test_deletions_without_a_cursor_are_all_or_cannot_be_answered(kit):
    side = kit.side
    [gone] = insert(kit, 1)
    kit.delete_outside(gone)
    try:
        deletions = side.deletions(None)
    except CannotAnswer as exc:
        assert str(exc)
    else:
        assert gone in deletions.keys


# -- who wrote a row ---------------------------------------------------------------------------------------------------
def test_writers_tell_the_integrations_writes_from_others(kit):
    side = kit.side
    ours, theirs = insert(kit, 1, 2)
    kit.change_outside(theirs, "Changed elsewhere")
    writers = side.writers([ours, theirs])
    if not kit.knows_writers:
        assert writers == {ours: None, theirs: None}
        return
    assert writers == {ours: kit.writer, theirs: kit.other_writer}
