"""skyras.sqlfilter: filters not given are left out; each condition keeps its own parameters."""

from skyras.sqlfilter import Where


def test_only_given_filters_become_conditions_with_their_values_in_order() -> None:
    where = (
        Where("due_date IS NOT NULL")
        .given([], "status = ANY(%s)")
        .given(["high"], "priority = ANY(%s)")
        .equal("assignee", None)
        .equal("kind", "cover")
        .add("(title ILIKE %s OR description ILIKE %s)", "%mix%", "%mix%")
    )
    assert where.sql() == (
        " WHERE due_date IS NOT NULL AND priority = ANY(%s) AND kind = %s"
        " AND (title ILIKE %s OR description ILIKE %s)"
    )
    assert where.params == [["high"], "cover", "%mix%", "%mix%"]


def test_no_filters_no_where() -> None:
    assert Where().given(None, "x = %s").sql() == ""
