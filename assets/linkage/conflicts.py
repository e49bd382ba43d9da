"""Clusters that would hold two different people are split along their weakest links.

Connected components chain: two people with the same four-part name (a father and the son
named after him, an aunt and the niece named after her) are each linked strongly to their own
records, and one record that carries neither birth date nor national number (a charity's aid
list, an emergency cash payment) can match both just above the automatic threshold. The
component then holds both people.

A cluster is in conflict when two of its records have birth dates no one person can have:
`birth_years_apart` or more years apart (config/linkage.yaml, `conflicts`), and no single
keying error turns one year into the other (one digit mistyped, or two swapped: 1956 and 1965
are one person's year mistyped, 1959 and 2016 are not). Such a cluster is rebuilt from its own
automatic links, strongest first, refusing any link that would bring two conflicting records
together. The other clusters are left as Splink made them.

A national number is not a conflict: a record carrying a relative's number (a household's head
on every member's row) is a known pattern in programme data, and would be cut off from its
person.
"""

from __future__ import annotations

from collections import defaultdict

import pyarrow as pa

# Two birth dates no one person has: a generation apart, and more than one keying error apart.
IRRECONCILABLE_BIRTH_DATES = """(
    {a}.birth_date is not null and {b}.birth_date is not null
    and abs(year({a}.birth_date) - year({b}.birth_date)) >= {years}
    and damerau_levenshtein(cast(year({a}.birth_date) as varchar), cast(year({b}.birth_date) as varchar)) >= 2
)"""


def birth_dates_conflict_sql(a: str, b: str, config: dict) -> str:
    """SQL that is true when the records aliased `a` and `b` cannot be one person (never, when
    birth_years_apart is null: birth dates that do not tell people apart, model.config_for_model)."""
    years = config["conflicts"]["birth_years_apart"]
    return "false" if years is None else IRRECONCILABLE_BIRTH_DATES.format(a=a, b=b, years=int(years))


def split_conflicting_clusters(work, clusters: str, edges: str, nodes: str, auto: float, config: dict) -> str:
    """Create and return the table `resolved_clusters` (unique_id, cluster_id): `clusters`
    (Splink's, unique_id and cluster_id) with each cluster in conflict rebuilt from `edges`
    (unique_id_l, unique_id_r, match_weight, match_probability) at or above `auto`, strongest
    first (a reviewer's match, without a weight, before any), no link joining two records that
    conflict. `nodes` holds every record's unique_id and birth_date.

    Only the clusters in conflict are read into Python: a few dozen per 100,000 persons, each
    at most the linkage's max_cluster_size records."""
    work.execute(f"""
        create or replace temp table conflicting_pairs as
        select ca.unique_id as id_a, cb.unique_id as id_b, ca.cluster_id
        from {clusters} ca
        join {clusters} cb on cb.cluster_id = ca.cluster_id and ca.unique_id < cb.unique_id
        join {nodes} a on a.unique_id = ca.unique_id
        join {nodes} b on b.unique_id = cb.unique_id
        where {birth_dates_conflict_sql('a', 'b', config)}
    """)
    pairs = work.execute("select id_a, id_b from conflicting_pairs").fetchall()
    links = work.execute(f"""
        select e.unique_id_l, e.unique_id_r
        from {edges} e join {clusters} c on c.unique_id = e.unique_id_l
        where c.cluster_id in (select cluster_id from conflicting_pairs) and e.match_probability >= {auto}
        order by e.match_weight desc nulls first, e.unique_id_l, e.unique_id_r
    """).fetchall()
    members = work.execute(f"""
        select unique_id from {clusters} where cluster_id in (select cluster_id from conflicting_pairs)
    """).fetchall()
    split = connected_groups([m[0] for m in members], links, pairs)
    work.register("split_clusters", pa.table({"unique_id": list(split), "cluster_id": list(split.values())}))
    work.execute(f"""
        create or replace table resolved_clusters as
        select c.unique_id, coalesce(s.cluster_id, cast(c.cluster_id as varchar)) as cluster_id
        from {clusters} c left join split_clusters s using (unique_id)
    """)
    work.unregister("split_clusters")
    work.execute("drop table conflicting_pairs")
    return "resolved_clusters"


def connected_groups(members: list[str], links: list[tuple[str, str]],
                     conflicts: list[tuple[str, str]]) -> dict[str, str]:
    """Union-find over `links` in the order given, refusing a union that would put both members
    of a conflicting pair in one group. Each member's group is named by its smallest member,
    marked so that it cannot equal a cluster id Splink gave."""
    parent = {m: m for m in members}
    group = {m: {m} for m in members}
    against = defaultdict(set)
    for a, b in conflicts:
        against[a].add(b)
        against[b].add(a)

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for left, right in links:
        a, b = root(left), root(right)
        if a == b:
            continue
        if len(group[a]) > len(group[b]):
            a, b = b, a
        if any(root(other) == b for x in group[a] for other in against[x]):
            continue
        parent[a] = b
        group[b] |= group.pop(a)
    return {m: "split:" + min(group[root(m)]) for m in members}
