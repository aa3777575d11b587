"""`cast:`: every speaker, by the id that segments use."""

from __future__ import annotations

from yaml.nodes import Node, ScalarNode

from bulletin.script.loading.context import ID, Context, as_id
from bulletin.script.model import EFFECTS, GENDERS, MEMBER_KEYS, RESERVED_IDS, ROLES, Member
from bulletin.script.yamlnodes import describe_node


def read_cast(ctx: Context, node: Node) -> None:
    """Fill ctx.cast with the valid members; ctx.broken_cast names the others."""
    members = ctx.r.mapping(node, "cast")
    if members is None:
        return
    if not members:
        ctx.r.problem(node, "cast", "is empty; name at least one speaker, e.g. anchor: {role: anchor}")
    for member_id, (key_node, value_node) in members.items():
        ctx.broken_cast.add(member_id)  # until it proves valid
        if _valid_id(ctx, member_id, key_node) and (member := _member(ctx, member_id, value_node)):
            ctx.broken_cast.discard(member_id)
            ctx.cast[member_id] = member


def _valid_id(ctx: Context, member_id: str, key_node: Node) -> bool:
    where = f"cast.{member_id}"
    if not ID.match(member_id):
        ctx.r.problem(key_node, where, "ids may use only letters, digits, '-' and '_' (no spaces); "
                      f"try {as_id(member_id)!r}")
        return False
    if member_id in RESERVED_IDS:
        ctx.r.problem(key_node, where, f"{member_id!r} is a segment key, so it cannot be a cast id; "
                      "choose another id")
        return False
    return True


def _member(ctx: Context, member_id: str, node: Node) -> Member | None:
    r, where = ctx.r, f"cast.{member_id}"
    if isinstance(node, ScalarNode):
        r.visit(node)
        role = node.value.strip()
        hint = f"{{role: {role}}}" if role in ROLES else f"{{role: reporter, name: {role or 'NAME'}}}"
        r.problem(node, where, f"must be a mapping like {hint}, not {describe_node(node)}")
        return None
    m = r.mapping(node, where, MEMBER_KEYS)
    if m is None:
        return None
    if "role" in m:
        role = r.choice(m["role"][1], f"{where}.role", ROLES)
    elif member_id in ROLES:
        role = member_id
    else:
        role = None
        ctx.required(node, "role", f"{where}.role", f"one of {', '.join(ROLES)}", MEMBER_KEYS)
    name = r.text(m["name"][1], f"{where}.name") if "name" in m else None
    title = r.text(m["title"][1], f"{where}.title") if "title" in m else None
    voice = r.text(m["voice"][1], f"{where}.voice") if "voice" in m else "auto"
    default_effect = "field" if role in ("official", "guest") else "none"
    effect = r.choice(m["effect"][1], f"{where}.effect", EFFECTS) if "effect" in m else default_effect
    gender = r.choice(m["gender"][1], f"{where}.gender", GENDERS) if "gender" in m else None
    if not (role and voice and effect) or ("gender" in m and gender is None):
        return None
    return Member(
        id=member_id,
        role=role,
        name=name or member_id.replace("_", " ").replace("-", " ").title(),
        title=title,
        voice=voice,
        effect=effect,
        line=node.start_mark.line + 1,
        gender=gender,
    )
