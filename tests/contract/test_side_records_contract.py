"""What every side with a model must do for the engine's run (`Side.records`, `record_reads`, `record_pages`,
`cursor_after`, `records_save`, `pairs_query`): the rows of a run as instances of the side's model, read and
written. `DjangoSide` answers with its own fast paths, `DataverseSide` with `Side`'s generic ones over its rows;
`MemorySide` has no model (rows only), and is left out."""

import pytest
from django.utils import timezone

from .kits import KITS, insert, kit_made, kit_params

# The kits of sides with a model (`MemorySide` has rows only); those that keep who wrote each row (not an ERP table).
MODEL_KITS = [name for name in KITS if name != "memory"]
WRITER_KITS = [name for name in MODEL_KITS if name != "django-one-database"]


@pytest.fixture(params=kit_params(MODEL_KITS))
def kit(request):
    return kit_made(request)


@pytest.fixture
def side(kit):
    return kit.side


def read_instances(side, reads, size=2):
    return [obj for read in reads for page in side.record_pages(read, size) for obj in page]


def test_records_are_the_models_instances_of_the_keys_found(kit, side):
    keys = insert(kit, 1, 2)
    kit.delete_outside(keys[1])
    records = side.records([*keys, *side.new_keys(1)])
    assert list(records) == [keys[0]]
    obj = records[keys[0]]
    assert isinstance(obj, side.model) and obj.pk == keys[0] and getattr(obj, kit.name_field) == "Name 0001"


def test_records_save_writes_new_instances_and_gives_each_its_modified_on(kit, side):
    objs = [side.model(**kit.values(n)) for n in (1, 2)]
    side.keys_take(objs)
    answers = side.records_save(objs, new=True, writer=kit.writer)
    assert [a.ok for a in answers] == [True, True] and all(obj.pk is not None for obj in objs)
    rows = side.rows([obj.pk for obj in objs])
    assert [rows[obj.pk][kit.name_field] for obj in objs] == ["Name 0001", "Name 0002"]
    assert [getattr(obj, side.modified_name) for obj in objs] == [rows[obj.pk][side.modified_name] for obj in objs]


def test_records_save_updates_the_fields_named_and_fails_a_refused_row_alone(kit, side):
    keys = insert(kit, 1, 2)
    records = side.records(keys)
    first, second = records[keys[0]], records[keys[1]]
    setattr(first, kit.name_field, "Renamed")
    setattr(second, kit.unique_field, "K00001")  # the first one's
    answers = side.records_save([first, second], new=False, attnames=[kit.name_field, kit.unique_field],
                                writer=kit.writer)
    assert [a.ok for a in answers] == [True, False] and answers[1].reason
    rows = side.rows(keys)
    assert rows[keys[0]][kit.name_field] == "Renamed" and rows[keys[1]][kit.unique_field] == "K00002"


def test_record_reads_give_every_row_then_since_the_cursor_the_rows_changed(kit, side):
    keys = insert(kit, 1, 2, 3)
    started = timezone.now()
    reads = side.record_reads()
    objs = read_instances(side, reads)
    assert set(keys) <= {obj.pk for obj in objs} and all(isinstance(obj, side.model) for obj in objs)
    max_seen = max(getattr(obj, side.modified_name) for obj in objs)
    cursor = side.cursor_after(reads, max_seen=max_seen, started=started)
    kit.change_outside(keys[1], "Changed")
    changed = {obj.pk: getattr(obj, kit.name_field) for obj in read_instances(side, side.record_reads(since=cursor))}
    assert changed.get(keys[1]) == "Changed"


def test_record_reads_of_keys_give_those_rows(kit, side):
    keys = insert(kit, 1, 2, 3)
    objs = read_instances(side, side.record_reads(only_keys=[keys[0], keys[2]]))
    assert sorted(obj.pk for obj in objs) == sorted([keys[0], keys[2]])


@pytest.mark.parametrize("kit", kit_params(WRITER_KITS), indirect=True)
def test_record_reads_leave_out_the_rows_the_integration_wrote_last(kit, side):
    assert kit.knows_writers
    keys = insert(kit, 1, 2)
    kit.change_outside(keys[1], "Changed")
    objs = read_instances(side, side.record_reads(writer_excluded=side.own_writer(kit.writer)))
    assert [obj.pk for obj in objs if obj.pk in keys] == [keys[1]]


def test_pairs_query_gives_each_key_with_its_value(kit, side):
    keys = insert(kit, 1, 2)
    assert set(side.pairs_query("pk", kit.name_field, keys)) == {(keys[0], "Name 0001"), (keys[1], "Name 0002")}
    assert set(side.pairs_query(kit.unique_field, "pk", ["K00002"])) == {("K00002", keys[1])}
