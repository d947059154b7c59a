"""A large synthetic space on top of the demo space: `SandboxConfig(seed_size=N)`, `--seed-size N`.

For tests and benches that need thousands of objects (the mirror's crawl, search on 10,000
objects, token-sized pages): pages, tasks, books, people, projects, weblinks, tags and daily
notes, from a few lines to tens of thousands of characters, linked to each other, some in
Chinese, Japanese or Korean. Deterministic: object `i` depends only on the random seed, `i` and
the objects before it, so a larger N only adds objects. Dates hang off `today` (the sandbox
clock), never a calendar date.

Speed: bodies are built as Markdown and as blocks side by side (the blocks are what the
Markdown parses to; a test holds the two together), so loading 10,000 objects parses nothing.
"""

# ruff: noqa: RUF001 (Chinese and Japanese text has full-width commas and colons on purpose)
from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from ._seed import (
    ACTIVE_PROJECTS_COLLECTION_ID,
    BOOK_AUTHOR_ID,
    BOOK_GENRE_ID,
    BOOK_GENRES,
    BOOK_PUBLISHED_ID,
    BOOK_RATING_ID,
    BOOK_STATUS,
    BOOK_STATUS_ID,
    BOOK_STRUCTURE_ID,
    BOOK_SUMMARY_ID,
    FAVORITE_BOOKS_COLLECTION_ID,
    PERSON_ORGANIZATION_ID,
    PERSON_ROLE_ID,
    PERSON_STRUCTURE_ID,
    PERSON_WEBSITE_ID,
    PROJECT_GOAL_ID,
    PROJECT_LEAD_ID,
    PROJECT_STATUS,
    PROJECT_STATUS_ID,
    PROJECT_STRUCTURE_ID,
    PROJECT_TIMELINE_ID,
    READING_LIST_COLLECTION_ID,
    TASK_PRIORITY,
    TASK_STATUS,
    SeedObject,
    SeedSpace,
    _date_value,
    _day,
    _rich_text,
    _text_value,
    _timestamp,
    seed_id,
)

__all__ = ["synthetic_space"]

Block = dict[str, Any]
Token = dict[str, Any]
_DAY = datetime.timedelta(days=1)
_DEMO_DAILY_NOTES = 7  # the demo space's daily notes are days 0..6 back


# --- vocabulary ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Topic:
    """Sentence parts of one subject area; a sentence is subject + verb + object + tail."""

    name: str
    subjects: tuple[str, ...]
    verbs: tuple[str, ...]
    objects: tuple[str, ...]
    tails: tuple[str, ...]
    nouns: tuple[str, ...]  # for titles


_TOPICS = (
    _Topic(
        "engineering",
        (
            "The retry budget",
            "Our deploy pipeline",
            "The search index",
            "The on-call rotation",
            "The caching layer",
            "Every schema migration",
            "The integration test suite",
            "Kubernetes autoscaling",
            "The new API client",
            "Structured logging",
        ),
        ("keeps", "slows down", "depends on", "hides", "makes room for", "exposes", "simplifies"),
        (
            "flaky tests",
            "cold starts",
            "the nightly import",
            "rate limits on every endpoint",
            "memory spikes under load",
            "stale feature flags",
            "slow database queries",
            "the rollback plan",
        ),
        (
            " when traffic spikes",
            " after every release",
            " on the staging cluster",
            " more than we expected",
            " according to the postmortem",
            "",
        ),
        ("Deploy pipeline", "Search index", "Caching", "Observability", "Code review", "Incident"),
    ),
    _Topic(
        "learning",
        (
            "Spaced repetition",
            "The Zettelkasten of Niklas Luhmann",
            "Active recall",
            "The forgetting curve of Ebbinghaus",
            "Writing in my own words",
            "Interleaved practice",
            "A permanent note",
            "Teaching a topic to someone else",
        ),
        ("strengthens", "reveals", "beats", "turns", "connects", "builds on"),
        (
            "long-term memory",
            "passive rereading",
            "fleeting notes into permanent ones",
            "ideas across fields",
            "the gaps in what I understand",
            "a slip box of linked notes",
        ),
        (" over several weeks", " better than cramming", " with very little effort", " in practice", ""),
        ("Memory", "Note-taking", "Deliberate practice", "Slip box", "Flashcards"),
    ),
    _Topic(
        "productivity",
        (
            "A weekly review",
            "The shutdown ritual",
            "Time blocking",
            "A single capture inbox",
            "Deep work before lunch",
            "Saying no to meetings",
            "The two-minute rule",
        ),
        ("protects", "clears", "reduces", "frees up", "turns into", "makes visible"),
        (
            "the hours for focused work",
            "open loops in my head",
            "context switching",
            "the backlog of small tasks",
            "a calm Friday afternoon",
            "what really matters this week",
        ),
        (" most weeks", " when I stick to it", " for the whole team", " without any new tool", ""),
        ("Weekly review", "Focus", "Planning", "Inbox", "Habits"),
    ),
    _Topic(
        "health",
        (
            "A morning walk",
            "Strength training twice a week",
            "Eight hours of sleep",
            "Cutting caffeine after noon",
            "The standing desk",
            "Stretching after work",
        ),
        ("improves", "restores", "lowers", "helps with", "changes"),
        (
            "my energy in the afternoon",
            "back pain from long sessions",
            "resting heart rate",
            "mood on grey days",
            "how well I sleep",
        ),
        (" within a month", " noticeably", " according to the tracker", ""),
        ("Sleep", "Running", "Nutrition", "Posture", "Strength"),
    ),
    _Topic(
        "travel",
        (
            "The old town of Lisbon",
            "The night train to Vienna",
            "Kyoto in autumn",
            "A ferry across the Oslofjord",
            "The market in Marrakesh",
            "Hiking in the Dolomites",
            "The tram through Porto",
        ),
        ("was worth", "needs", "rewards", "asks for", "surprised us with"),
        (
            "an early start",
            "a second visit",
            "comfortable shoes",
            "booking two weeks ahead",
            "quiet side streets",
            "the best coffee of the trip",
        ),
        (" in the off season", " with a local guide", " despite the rain", " on a weekday", ""),
        ("Itinerary", "Packing list", "Bookings", "Day trip", "Budget"),
    ),
    _Topic(
        "cooking",
        (
            "The sourdough starter",
            "A long cold proof",
            "Toasted spices",
            "The cast iron pan",
            "Brown butter",
            "A pinch of salt in the coffee",
        ),
        ("gives", "needs", "brings out", "rescues", "deepens"),
        (
            "a better oven spring",
            "the flavour of the sauce",
            "two feedings a day",
            "a crisp crust",
            "weeknight dinners",
        ),
        (" every single time", " in winter", " if you are patient", ""),
        ("Recipe", "Bread", "Meal plan", "Fermentation", "Baking"),
    ),
    _Topic(
        "reading",
        (
            "The second chapter",
            "The author's main argument",
            "This novel",
            "The appendix on method",
            "The interview with the editor",
            "Re-reading the introduction",
        ),
        ("challenges", "explains", "borrows from", "illustrates", "changed"),
        (
            "how I think about habits",
            "the two-systems model of the mind",
            "the history of the printing press",
            "why small teams ship faster",
            "what a good summary looks like",
        ),
        (" with vivid examples", " better than the film", " in under twenty pages", ""),
        ("Book notes", "Highlights", "Reading list", "Summary", "Quotes"),
    ),
    _Topic(
        "finance",
        (
            "The household budget",
            "An emergency fund",
            "Index funds",
            "The yearly tax return",
            "Automatic transfers",
        ),
        ("covers", "simplifies", "protects", "outperforms", "needs"),
        (
            "three months of expenses",
            "most active strategies",
            "receipts from the whole year",
            "the savings goal",
            "surprise repairs",
        ),
        (" over the long run", " if we review it monthly", " with little effort", ""),
        ("Budget", "Savings", "Taxes", "Investments", "Insurance"),
    ),
)

_CJK_SENTENCES = (
    "今天读了关于间隔重复的论文，收获很多。",
    "卢曼的卡片盒笔记法强调用自己的话写下想法。",
    "周末去杭州西湖散步，天气很好。",
    "这个项目的截止日期快到了，需要重新安排优先级。",
    "复盘会议上，大家都同意先修复不稳定的测试。",
    "读书笔记要写清楚作者的核心观点和自己的看法。",
    "早上跑步五公里，精神好了很多。",
    "搜索功能只匹配标题，全文检索还需要本地索引。",
    "京都の秋は紅葉がとても美しかった。",
    "毎朝十分間、昨日のメモを見直している。",
    "新しいAPIクライアントの移行はほぼ終わった。",
    "週次レビューで来週の予定を決めた。",
    "この本の第三章は習慣の作り方について書かれている。",
    "サワードウのパンを焼いたら、皮がぱりっと仕上がった。",
    "チームの会議で検索インデックスの設計を話し合った。",
    "오늘은 회의록을 정리하고 다음 주 계획을 세웠다.",
    "간격 반복 학습은 장기 기억에 도움이 된다.",
    "서울의 봄은 벚꽃이 아름답다.",
)
_CJK_TITLES = (
    "读书笔记：{noun}",
    "会议记录：{noun}",
    "学习计划：{noun}",
    "{noun}についてのメモ",
    "{noun}の振り返り",
    "{noun} 회의록",
)
_CJK_NOUNS = ("卡片盒笔记法", "间隔重复", "搜索索引", "京都旅行", "週次レビュー", "習慣", "프로젝트", "독서")

_FIRST_NAMES = (
    "Ada", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemal",
    "Lena", "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Victor",
    "Wen", "Ximena", "Yusuf", "Zoe", "Aiko", "Bruno", "Carmen", "Daniel",
)  # fmt: skip
_LAST_NAMES = (
    "Alvarez", "Becker", "Castro", "Dubois", "Eriksen", "Fischer", "García", "Hansen", "Ito",
    "Jovanović", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quispe",
    "Rossi", "Schmidt", "Tanaka", "Usman", "Varga", "Wong", "Yilmaz", "Zhang", "Ahmed", "Brennan",
    "Costa", "Dalton", "Novak",
)  # fmt: skip
_ROLES = ("Product manager", "Backend engineer", "Designer", "Researcher", "Author", "Editor", "Founder")
_ORGANIZATIONS = ("Northwind Labs", "Contoso", "Fabrikam", "Globex", "Initech", "Umbrella Press", "Self")
_TASK_VERBS = ("Review", "Draft", "Fix", "Plan", "Book", "Renew", "Email", "Update", "Prepare", "Schedule")
_TASK_OBJECTS = (
    "the quarterly report",
    "pull request",
    "dentist appointment",
    "flight to Porto",
    "the onboarding checklist",
    "insurance documents",
    "the team offsite agenda",
    "slides for the demo",
    "the retry budget proposal",
    "car service",
    "library books",
    "tax receipts",
)
_PAGE_TITLES = ("Notes on {n}", "{n}: what I learned", "Meeting notes: {n}", "{n} ideas", "{n}")
_BOOK_ADJECTIVES = ("Quiet", "Hidden", "Long", "Last", "Open", "Patient", "Invisible", "Small", "Second")
_BOOK_NOUNS = ("Habit", "Garden", "Machine", "River", "Archive", "Signal", "Lighthouse", "Ledger", "Map")
_PROJECT_KINDS = ("migration", "redesign", "launch", "cleanup", "research", "rollout", "audit")
_TAG_NAMES = (
    "Gardening", "Finance", "Cooking", "Writing", "Music", "Family", "Career", "Design", "Running",
    "Languages", "Philosophy", "History", "Photography", "Home", "Ideas", "Meetings", "Inbox",
    "Archive", "Someday", "Reference", "Climbing", "Chess", "Podcasts", "Math",
)  # fmt: skip
_CODE_SNIPPETS = (
    ("python", "def backoff(attempt: int) -> float:\n    return min(30.0, 0.5 * 2**attempt)"),
    ("sql", "SELECT id, title FROM objects WHERE updated_at > :since ORDER BY updated_at;"),
    ("bash", "rsync -av --delete notes/ backup/notes/"),
    ("json", '{"limit": 50, "structureIds": ["RootPage"]}'),
)


# --- blocks and their Markdown, built side by side -------------------------------------------------


def _text(text: str, *, bold: bool = False) -> Token:
    return {"type": "TextToken", "text": text, "style": {"bold": True} if bold else {}}


def _text_block(tokens: list[Token], level: int = 0, **extra: Any) -> Block:
    key = f"H{level}" if level else "Base"
    return {"type": "TextBlock", "tokens": tokens, "hierarchy": {"key": key, "val": level}, **extra}


@dataclass
class _Body:
    """A body being written: Markdown units (joined by blank lines) and the blocks they parse to."""

    units: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)

    def heading(self, text: str, level: int = 2) -> None:
        self.units.append(f"{'#' * level} {text}")
        self.blocks.append(_text_block([_text(text)], level))

    def paragraph(self, text: str, *, lead: str | None = None, link: tuple[str, str] | None = None) -> None:
        """`lead`: a bold opening (a daily note's time); `link`: (title, id) linked at the end."""
        markdown, tokens = text, []
        if lead is not None:
            markdown, text = f"**{lead}** {text}", f" {text}"
            tokens.append(_text(lead, bold=True))
        if link is None:
            tokens.append(_text(text))
        else:
            markdown += f" See [[{link[0]}]]."
            link_token = {"type": "LinkToken", "text": link[0], "entityId": link[1]}
            tokens += [_text(f"{text} See "), link_token, _text(".")]
        self.units.append(markdown)
        self.blocks.append(_text_block(tokens))

    def items(self, kind: str, texts: list[str], done: list[bool] | None = None) -> None:
        """A bullet, numbered or to-do list; one block per item."""
        lines: list[str] = []
        for index, text in enumerate(texts):
            if kind == "todo":
                is_done = bool(done and done[index])
                lines.append(f"- [{'x' if is_done else ' '}] {text}")
                self.blocks.append(_text_block([_text(text)], todo={"isDone": is_done}))
            else:
                lines.append(f"{index + 1}. {text}" if kind == "numerical" else f"- {text}")
                self.blocks.append(_text_block([_text(text)], list={"type": kind}))
        self.units.append("\n".join(lines))

    def quote(self, text: str) -> None:
        self.units.append(f"> {text}")
        self.blocks.append(_text_block([_text(text)], quote={"layout": "normal"}))

    def code(self, lang: str, text: str) -> None:
        self.units.append(f"```{lang}\n{text}\n```")
        self.blocks.append({"type": "CodeBlock", "lang": lang, "text": text})

    def rule(self) -> None:
        self.units.append("---")
        self.blocks.append({"type": "HorizontalLineBlock"})

    @property
    def markdown(self) -> str:
        return "\n\n".join(self.units)


# --- the generator ---------------------------------------------------------------------------------


@dataclass
class _Known:
    """What earlier objects the next ones can link to, and which titles are taken."""

    titles: set[str]
    people: list[SeedObject]
    projects: list[SeedObject]
    books: list[SeedObject]
    tags: list[str]
    linkable: list[SeedObject]
    daily_notes: int = 0


_KINDS: tuple[tuple[str, int], ...] = (
    ("page", 30),
    ("task", 28),
    ("daily", 10),
    ("book", 8),
    ("person", 8),
    ("weblink", 6),
    ("project", 4),
    ("cjk", 5),
    ("tag", 1),
)
_LENGTHS: tuple[tuple[tuple[int, int], int], ...] = (
    ((1, 3), 60),  # a few lines
    ((4, 12), 28),
    ((13, 40), 9),
    ((80, 200), 3),  # long notes: tens of thousands of characters
)


def synthetic_space(today: datetime.date, size: int, *, seed: int = 0, base: SeedSpace) -> SeedSpace:
    """`base` (the demo space) plus `size` generated objects, the same for the same size and seed.

    `size` is range-checked once, by `SandboxConfig` (`MAX_SEED_SIZE`), which every start goes through.
    """
    known = _Known(
        titles={item.title.casefold() for item in base.objects},
        people=[item for item in base.objects if item.structure_id == PERSON_STRUCTURE_ID],
        projects=[item for item in base.objects if item.structure_id == PROJECT_STRUCTURE_ID],
        books=[item for item in base.objects if item.structure_id == BOOK_STRUCTURE_ID],
        tags=[item.title for item in base.objects if item.structure_id == "RootTag"],
        linkable=[item for item in base.objects if item.structure_id != "RootDailyNote"],
    )
    kinds = [kind for kind, _ in _KINDS]
    weights = [weight for _, weight in _KINDS]
    objects = list(base.objects)
    for index in range(size):
        rng = random.Random(f"synthetic:{seed}:{index}")
        kind = rng.choices(kinds, weights)[0]
        if kind == "tag" and not _free_tag_names(known):
            kind = "page"
        made = _MAKERS[kind](_Context(today, rng, known, seed_id(f"synthetic:{seed}:{index}")))
        objects.append(made)
        _remember(known, made)
    return replace(base, objects=objects)


@dataclass(frozen=True)
class _Context:
    today: datetime.date
    rng: random.Random
    known: _Known
    object_id: str

    def unique(self, title: str) -> str:
        """The title, or with a number after it when an earlier object has it."""
        candidate, n = title, 2
        while candidate.casefold() in self.known.titles:
            candidate, n = f"{title} ({n})", n + 1
        self.known.titles.add(candidate.casefold())
        return candidate

    def created(self, max_days: int = 900) -> str:
        day = self.today - self.rng.randint(0, max_days) * _DAY
        return _timestamp(day, self.rng.randint(6, 22), self.rng.randint(0, 59))

    def tags(self, most: int = 2) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.rng.sample(self.known.tags, k=self.rng.randint(0, most))))

    def link(self) -> tuple[str, str] | None:
        if not self.known.linkable or self.rng.random() < 0.4:
            return None
        target = self.recent(self.known.linkable, 2000)
        return target.title, target.id

    def recent(self, items: list[SeedObject], window: int) -> SeedObject:
        """One of the last `window` items (links go mostly to recent objects), without a copy."""
        span = min(window, len(items))
        return items[len(items) - 1 - int(self.rng.random() * span)]

    def topic(self) -> _Topic:
        return self.rng.choice(_TOPICS)


def _remember(known: _Known, made: SeedObject) -> None:
    groups = {
        PERSON_STRUCTURE_ID: known.people,
        PROJECT_STRUCTURE_ID: known.projects,
        BOOK_STRUCTURE_ID: known.books,
    }
    if made.structure_id in groups:
        groups[made.structure_id].append(made)
    if made.structure_id == "RootTag":
        known.tags.append(made.title)
    if made.structure_id != "RootDailyNote":
        known.linkable.append(made)


def _pick(rng: random.Random, options: tuple[str, ...]) -> str:
    """`rng.choice`, four times as fast: sentences are most of the generation time."""
    return options[int(rng.random() * len(options))]


def _sentence(rng: random.Random, topic: _Topic) -> str:
    return (
        f"{_pick(rng, topic.subjects)} {_pick(rng, topic.verbs)} {_pick(rng, topic.objects)}"
        f"{_pick(rng, topic.tails)}."
    )


def _paragraph(rng: random.Random, topic: _Topic, sentences: tuple[int, int] = (2, 6)) -> str:
    count = sentences[0] + int(rng.random() * (sentences[1] - sentences[0] + 1))
    return " ".join([_sentence(rng, topic) for _ in range(count)])


def _cjk_paragraph(rng: random.Random) -> str:
    return "".join(rng.sample(_CJK_SENTENCES, k=rng.randint(2, 6)))


def _write_body(ctx: _Context, topic: _Topic | None, *, blocks: int | None = None) -> _Body:
    """A body of about `blocks` blocks (default: a random length class); CJK when `topic` is None."""
    rng = ctx.rng
    if blocks is None:
        lengths = [span for span, _ in _LENGTHS]
        span = rng.choices(lengths, [weight for _, weight in _LENGTHS])[0]
        blocks = rng.randint(*span)
    body = _Body()
    if blocks == 0:
        return body
    write: Callable[[], str] = (
        partial(_cjk_paragraph, rng) if topic is None else partial(_paragraph, rng, topic)
    )
    body.paragraph(write(), link=ctx.link())
    while len(body.blocks) < blocks:
        _write_section_part(body, rng, topic, write)
    return body


def _write_section_part(
    body: _Body, rng: random.Random, topic: _Topic | None, write: Callable[[], str]
) -> None:
    roll = rng.random()
    if roll < 0.12:
        noun = rng.choice(topic.nouns) if topic else rng.choice(_CJK_NOUNS)
        body.heading(noun, rng.choice((2, 2, 3)))
    elif roll < 0.62:
        body.paragraph(write())
    elif roll < 0.74 and topic is not None:
        kind = rng.choice(("bullet", "numerical"))
        body.items(kind, [_sentence(rng, topic)[:-1] for _ in range(rng.randint(2, 5))])
    elif roll < 0.82 and topic is not None:
        count = rng.randint(2, 4)
        points = [_sentence(rng, topic)[:-1] for _ in range(count)]
        body.items("todo", points, [rng.random() < 0.5 for _ in range(count)])
    elif roll < 0.9:
        body.quote(write())
    elif roll < 0.96 and topic is not None:
        body.code(*rng.choice(_CODE_SNIPPETS))
    elif roll < 0.98:
        body.rule()
    else:
        body.paragraph(write())


def _label(option: dict[str, str]) -> dict[str, Any]:
    return {"type": "label", "label": [{"id": option["id"], "name": option["name"]}]}


def _entity(*targets: SeedObject) -> dict[str, Any]:
    return {"type": "entity", "entity": [{"id": target.id} for target in targets]}


def _seed_object(ctx: _Context, structure_id: str, title: str, body: _Body, **fields: Any) -> SeedObject:
    return SeedObject(
        id=ctx.object_id,
        structure_id=structure_id,
        title=title,
        markdown=body.markdown,
        blocks=body.blocks,
        created_at=fields.pop("created_at", None) or ctx.created(),
        **fields,
    )


# --- one maker per kind ----------------------------------------------------------------------------


def _page(ctx: _Context) -> SeedObject:
    topic = ctx.topic()
    noun = ctx.rng.choice(topic.nouns)
    pattern = ctx.rng.choice(_PAGE_TITLES)
    title = ctx.unique(pattern.format(n=noun.lower() if pattern.startswith("Notes") else noun))
    body = _write_body(ctx, topic)
    properties = {"description": _rich_text(_sentence(ctx.rng, topic))} if ctx.rng.random() < 0.5 else {}
    return _seed_object(ctx, "RootPage", title, body, properties=properties, tags=ctx.tags())


def _cjk_page(ctx: _Context) -> SeedObject:
    title = ctx.unique(ctx.rng.choice(_CJK_TITLES).format(noun=ctx.rng.choice(_CJK_NOUNS)))
    body = _write_body(ctx, None)
    return _seed_object(ctx, "RootPage", title, body, tags=ctx.tags(1))


def _task(ctx: _Context) -> SeedObject:
    rng = ctx.rng
    title = ctx.unique(f"{rng.choice(_TASK_VERBS)} {rng.choice(_TASK_OBJECTS)}")
    status = rng.choices(TASK_STATUS, (4, 2, 5))[0]
    properties: dict[str, Any] = {"status": _label(status), "priority": _label(rng.choice(TASK_PRIORITY))}
    if status["name"] == "Done":
        properties["completed"] = _date_value(ctx.today - rng.randint(0, 120) * _DAY)
    elif rng.random() < 0.6:
        properties["deadline"] = _date_value(ctx.today + rng.randint(-20, 45) * _DAY)
    if rng.random() < 0.3:
        properties["date"] = _date_value(ctx.today + rng.randint(-10, 20) * _DAY)
    body = _write_body(ctx, ctx.topic(), blocks=rng.choice((0, 0, 1, 1, 2, 4)))
    if ctx.known.projects and rng.random() < 0.4:
        project = ctx.recent(ctx.known.projects, 200)
        body.paragraph("Part of this project.", link=(project.title, project.id))
    return _seed_object(ctx, "RootTask", title, body, properties=properties, tags=ctx.tags(1))


def _book(ctx: _Context) -> SeedObject:
    rng = ctx.rng
    title = ctx.unique(
        rng.choice(
            (
                f"The {rng.choice(_BOOK_ADJECTIVES)} {rng.choice(_BOOK_NOUNS)}",
                f"{rng.choice(_BOOK_NOUNS)} and {rng.choice(_BOOK_NOUNS)}",
                f"On the {rng.choice(_BOOK_NOUNS)}",
            )
        )
    )
    topic = ctx.topic()
    genres = rng.sample(BOOK_GENRES, k=rng.randint(1, 2))
    properties: dict[str, Any] = {
        BOOK_RATING_ID: _text_value("number", rng.randint(1, 5)),
        BOOK_GENRE_ID: {"type": "label", "label": [{"id": g["id"], "name": g["name"]} for g in genres]},
        BOOK_STATUS_ID: _label(rng.choice(BOOK_STATUS)),
        BOOK_PUBLISHED_ID: _date_value(ctx.today - rng.randint(365, 365 * 80) * _DAY),
        BOOK_SUMMARY_ID: _rich_text(_paragraph(rng, topic, (1, 3))),
    }
    if ctx.known.people:
        properties[BOOK_AUTHOR_ID] = _entity(ctx.recent(ctx.known.people, 300))
    collections = [READING_LIST_COLLECTION_ID] if rng.random() < 0.3 else []
    if rng.random() < 0.1:
        collections.append(FAVORITE_BOOKS_COLLECTION_ID)
    body = _write_body(ctx, topic)
    return _seed_object(
        ctx,
        BOOK_STRUCTURE_ID,
        title,
        body,
        properties=properties,
        tags=ctx.tags(),
        collections=tuple(collections),
    )


def _person(ctx: _Context) -> SeedObject:
    rng = ctx.rng
    title = ctx.unique(f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}")
    properties: dict[str, Any] = {
        PERSON_ROLE_ID: _text_value("text", rng.choice(_ROLES)),
        PERSON_ORGANIZATION_ID: _text_value("text", rng.choice(_ORGANIZATIONS)),
    }
    if rng.random() < 0.4:
        slug = title.split(" (")[0].lower().replace(" ", "-").encode("ascii", "ignore").decode()
        properties[PERSON_WEBSITE_ID] = _text_value("url", f"https://{slug}.example.com")
    body = _write_body(ctx, ctx.topic(), blocks=rng.randint(1, 4))
    return _seed_object(ctx, PERSON_STRUCTURE_ID, title, body, properties=properties, tags=ctx.tags(1))


def _project(ctx: _Context) -> SeedObject:
    rng = ctx.rng
    topic = ctx.topic()
    title = ctx.unique(f"{rng.choice(topic.nouns)} {rng.choice(_PROJECT_KINDS)}")
    status = rng.choice(PROJECT_STATUS)
    start = ctx.today - rng.randint(0, 200) * _DAY
    properties: dict[str, Any] = {
        PROJECT_STATUS_ID: _label(status),
        PROJECT_TIMELINE_ID: _date_value(start, start + rng.randint(14, 180) * _DAY),
        PROJECT_GOAL_ID: _rich_text(_sentence(rng, topic)),
    }
    if ctx.known.people:
        properties[PROJECT_LEAD_ID] = _entity(ctx.recent(ctx.known.people, 300))
    collections = (ACTIVE_PROJECTS_COLLECTION_ID,) if status["name"] == "Active" else ()
    body = _write_body(ctx, topic)
    return _seed_object(
        ctx,
        PROJECT_STRUCTURE_ID,
        title,
        body,
        properties=properties,
        tags=ctx.tags(),
        collections=collections,
    )


def _weblink(ctx: _Context) -> SeedObject:
    rng = ctx.rng
    topic = ctx.topic()
    noun = rng.choice(topic.nouns)
    title = ctx.unique(rng.choice((f"A guide to {noun.lower()}", f"{noun} in practice", f"Why {noun}")))
    slug = title.lower().replace(" ", "-").replace("(", "").replace(")", "")
    properties = {"description": _text_value("text", _sentence(rng, topic))}
    body = _write_body(ctx, topic, blocks=rng.randint(0, 3))
    url = f"https://{topic.name}.example.org/articles/{slug}"
    return _seed_object(ctx, "MediaWebResource", title, body, properties=properties, tags=ctx.tags(), url=url)


def _free_tag_names(known: _Known) -> list[str]:
    return [name for name in _TAG_NAMES if name.casefold() not in known.titles]


def _tag(ctx: _Context) -> SeedObject:
    title = ctx.unique(ctx.rng.choice(_free_tag_names(ctx.known)))
    body = _Body()
    body.paragraph(_sentence(ctx.rng, ctx.topic()))
    return _seed_object(ctx, "RootTag", title, body, created_at=ctx.created(1200))


def _daily_note(ctx: _Context) -> SeedObject:
    """A daily note for the next free day back, with the demo's id scheme (`daily:<days ago>`)."""
    rng = ctx.rng
    days_ago = _DEMO_DAILY_NOTES + ctx.known.daily_notes
    ctx.known.daily_notes += 1
    day = ctx.today - days_ago * _DAY
    body = _Body()
    minute = rng.randint(6 * 60, 9 * 60)
    for _ in range(rng.randint(1, 5)):
        text = _cjk_paragraph(rng) if rng.random() < 0.08 else _paragraph(rng, ctx.topic(), (1, 4))
        body.paragraph(text, lead=f"{minute // 60:02d}:{minute % 60:02d}", link=ctx.link())
        minute = min(23 * 60 + 59, minute + rng.randint(20, 180))
    return SeedObject(
        id=seed_id(f"daily:{days_ago}"),
        structure_id="RootDailyNote",
        title=_day(day),
        markdown=body.markdown,
        blocks=body.blocks,
        created_at=_timestamp(day, 6, 30),
    )


_MAKERS: dict[str, Callable[[_Context], SeedObject]] = {
    "page": _page,
    "cjk": _cjk_page,
    "task": _task,
    "book": _book,
    "person": _person,
    "project": _project,
    "weblink": _weblink,
    "tag": _tag,
    "daily": _daily_note,
}
