"""The demo space the sandbox starts with: real-looking structures, objects and notes.

Everything is deterministic (ids are uuid5 of a fixed namespace; dates hang off `today`), so
tests, docs and benchmarks can name objects by id. Bodies are Markdown (converted to blocks by
the store with `markdown_to_blocks`); property values are writable wire-form values.
"""

from __future__ import annotations

import copy
import datetime
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ACTIVE_PROJECTS_COLLECTION_ID",
    "BOOK_AUTHOR_ID",
    "BOOK_GENRES",
    "BOOK_GENRE_ID",
    "BOOK_PUBLISHED_ID",
    "BOOK_RATING_ID",
    "BOOK_STATUS",
    "BOOK_STATUS_ID",
    "BOOK_STRUCTURE_ID",
    "BOOK_SUMMARY_ID",
    "CONTENT_PROPERTY",
    "DEMO_SPACE_ID",
    "FAVORITE_BOOKS_COLLECTION_ID",
    "PERSON_ORGANIZATION_ID",
    "PERSON_ROLE_ID",
    "PERSON_STRUCTURE_ID",
    "PERSON_WEBSITE_ID",
    "PROJECT_GOAL_ID",
    "PROJECT_LEAD_ID",
    "PROJECT_STATUS",
    "PROJECT_STATUS_ID",
    "PROJECT_STRUCTURE_ID",
    "PROJECT_TIMELINE_ID",
    "READING_LIST_COLLECTION_ID",
    "RESEARCH_NOTE_ID",
    "RETROSPECTIVE_ID",
    "SMART_NOTES_BOOK_ID",
    "TAG_TITLES",
    "TASK_PRIORITY",
    "TASK_STATUS",
    "TODAYS_DAILY_NOTE_ID",
    "WELCOME_PAGE_ID",
    "SeedObject",
    "SeedSpace",
    "demo_space",
    "seed_id",
]

_NAMESPACE = uuid.UUID("6f1c2b9e-4d0a-5c3e-8f7a-2b1d9e0c4a11")


def seed_id(name: str) -> str:
    """The stable id of a named demo item (uuid5 of the demo namespace)."""
    return str(uuid.uuid5(_NAMESPACE, name))


DEMO_SPACE_ID = seed_id("space:demo")
WELCOME_PAGE_ID = seed_id("object:Welcome to your demo space")
BOOK_STRUCTURE_ID = seed_id("structure:Book")
PERSON_STRUCTURE_ID = seed_id("structure:Person")
PROJECT_STRUCTURE_ID = seed_id("structure:Project")
READING_LIST_COLLECTION_ID = seed_id("collection:Reading list")
FAVORITE_BOOKS_COLLECTION_ID = seed_id("collection:Favorite books")
ACTIVE_PROJECTS_COLLECTION_ID = seed_id("collection:Active projects")

# Custom types' own fields have uuid ids, as in a real space.
BOOK_AUTHOR_ID = seed_id("property:Book.author")
BOOK_RATING_ID = seed_id("property:Book.rating")
BOOK_GENRE_ID = seed_id("property:Book.genre")
BOOK_STATUS_ID = seed_id("property:Book.status")
BOOK_PUBLISHED_ID = seed_id("property:Book.published")
BOOK_SUMMARY_ID = seed_id("property:Book.summary")
PERSON_ROLE_ID = seed_id("property:Person.role")
PERSON_ORGANIZATION_ID = seed_id("property:Person.organization")
PERSON_WEBSITE_ID = seed_id("property:Person.website")
PROJECT_STATUS_ID = seed_id("property:Project.status")
PROJECT_LEAD_ID = seed_id("property:Project.lead")
PROJECT_TIMELINE_ID = seed_id("property:Project.timeline")
PROJECT_GOAL_ID = seed_id("property:Project.goal")

RESEARCH_NOTE_ID = seed_id("object:Research: Spaced repetition and the forgetting curve")
RETROSPECTIVE_ID = seed_id("object:Retrospective: Website relaunch")
SMART_NOTES_BOOK_ID = seed_id("object:How to Take Smart Notes")
TODAYS_DAILY_NOTE_ID = seed_id("daily:0")
"""Daily note ids count back from `today` (0 = today), so "today's note" has a fixed id."""

CONTENT_PROPERTY: dict[str, str] = {
    "RootPage": "content",
    "RootTask": "notes",
    "RootTag": "content",
    "RootDailyNote": "RootDailyNote_notes",
    "MediaWebResource": "media_notes",
    BOOK_STRUCTURE_ID: seed_id("blocks:Book.notes"),
    PERSON_STRUCTURE_ID: seed_id("blocks:Person.notes"),
    PROJECT_STRUCTURE_ID: seed_id("blocks:Project.notes"),
}


@dataclass(frozen=True)
class SeedObject:
    """One demo object. `url` is a weblink's address (the store sets `media_URLReference`).

    `blocks`: what `markdown` parses to (writable blocks), when the generator built both, so
    that loading a large synthetic space parses nothing.
    """

    id: str
    structure_id: str
    title: str
    markdown: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    collections: tuple[str, ...] = ()
    created_at: str = "2026-01-05T09:00:00.000Z"
    url: str | None = None
    blocks: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class SeedSpace:
    space: dict[str, Any]
    structures: list[dict[str, Any]]
    objects: list[SeedObject]
    content_property: dict[str, str]

    def object_titled(self, title: str) -> SeedObject | None:
        """The seed object with exactly this title (titles are unique in the demo space)."""
        return next((item for item in self.objects if item.title == title), None)


# --- structures --------------------------------------------------------------------------------


def _label_options(*names_and_colors: tuple[str, str]) -> list[dict[str, str]]:
    return [
        {"id": name.lower().replace(" ", "-"), "name": name, "color": color}
        for name, color in names_and_colors
    ]


TASK_STATUS = _label_options(("Not started", "gray"), ("In progress", "blue"), ("Done", "green"))
TASK_PRIORITY = _label_options(("Low", "gray"), ("Medium", "yellow"), ("High", "red"))
BOOK_STATUS = _label_options(
    ("To read", "gray"), ("Reading", "blue"), ("Finished", "green"), ("Abandoned", "red")
)
BOOK_GENRES = _label_options(
    ("Non-fiction", "blue"),
    ("Fiction", "purple"),
    ("Psychology", "pink"),
    ("Productivity", "green"),
    ("Software", "orange"),
    ("Science fiction", "violet"),
)
PROJECT_STATUS = _label_options(
    ("Planned", "gray"), ("Active", "blue"), ("On hold", "yellow"), ("Completed", "green")
)


def _prop(prop_id: str, name: str, kind: str, *, writable: bool = True, **extra: Any) -> dict[str, Any]:
    return {"id": prop_id, "name": name, "type": kind, "writable": writable, **extra}


_TITLE = _prop("title", "", "title")
_TAGS = _prop("tags", "Tags", "entity", allowedStructures=["RootTag"])
_CREATED = _prop("createdAt", "Created", "createdAt")
_UPDATED = _prop("lastUpdatedAt", "Last updated", "lastUpdatedAt", writable=False)


def _structures() -> list[dict[str, Any]]:
    def structure(
        structure_id: str,
        title: str,
        plural: str,
        color: str,
        definitions: list[dict[str, Any]],
        collections: Iterable[tuple[str, str]] = (),
    ) -> dict[str, Any]:
        return {
            "id": structure_id,
            "title": title,
            "pluralName": plural,
            "propertyDefinitions": definitions,
            "labelColor": color,
            "collections": [{"id": cid, "title": ctitle} for cid, ctitle in collections],
        }

    structures = [
        structure(
            "RootPage",
            "Page",
            "Pages",
            "gray",
            [
                _TITLE,
                _prop("description", "Description", "richText"),
                _TAGS,
                _CREATED,
                _UPDATED,
            ],
        ),
        structure(
            "RootTask",
            "Task",
            "Tasks",
            "blue",
            [
                _TITLE,
                _prop("status", "Status", "label", multiple=False, labelSet=TASK_STATUS),
                _prop("priority", "Priority", "label", multiple=False, labelSet=TASK_PRIORITY),
                _prop("date", "Date", "date"),
                _prop("deadline", "Deadline", "date"),
                _prop("completed", "Completed", "date"),
                _TAGS,
            ],
        ),
        structure("RootTag", "Tag", "Tags", "yellow", [_TITLE, _CREATED, _UPDATED]),
        structure(
            "RootDailyNote",
            "Daily note",
            "Daily notes",
            "orange",
            [
                _TITLE,
                _CREATED,
                _UPDATED,
            ],
        ),
        structure(
            "MediaWebResource",
            "Weblink",
            "Weblinks",
            "teal",
            [
                _TITLE,
                _prop("description", "Description", "text"),
                _prop("media_URLReference", "URL", "url", writable=False),
                _TAGS,
                _CREATED,
                _UPDATED,
            ],
        ),
        structure(
            BOOK_STRUCTURE_ID,
            "Book",
            "Books",
            "purple",
            [
                _TITLE,
                _prop(BOOK_AUTHOR_ID, "Author", "entity", allowedStructures=[PERSON_STRUCTURE_ID]),
                _prop(BOOK_RATING_ID, "Rating", "number"),
                _prop(BOOK_GENRE_ID, "Genre", "label", multiple=True, labelSet=BOOK_GENRES),
                _prop(BOOK_STATUS_ID, "Status", "label", multiple=False, labelSet=BOOK_STATUS),
                _prop(BOOK_PUBLISHED_ID, "Published", "date"),
                _prop(BOOK_SUMMARY_ID, "Summary", "richText"),
                _TAGS,
                _CREATED,
                _UPDATED,
            ],
            [
                (READING_LIST_COLLECTION_ID, "Reading list"),
                (FAVORITE_BOOKS_COLLECTION_ID, "Favorite books"),
            ],
        ),
        structure(
            PERSON_STRUCTURE_ID,
            "Person",
            "People",
            "pink",
            [
                _TITLE,
                _prop(PERSON_ROLE_ID, "Role", "text"),
                _prop(PERSON_ORGANIZATION_ID, "Organization", "text"),
                _prop(PERSON_WEBSITE_ID, "Website", "url"),
                _TAGS,
                _CREATED,
                _UPDATED,
            ],
        ),
        structure(
            PROJECT_STRUCTURE_ID,
            "Project",
            "Projects",
            "green",
            [
                _TITLE,
                _prop(PROJECT_STATUS_ID, "Status", "label", multiple=False, labelSet=PROJECT_STATUS),
                _prop(PROJECT_LEAD_ID, "Lead", "entity", allowedStructures=[PERSON_STRUCTURE_ID]),
                _prop(PROJECT_TIMELINE_ID, "Timeline", "date"),
                _prop(PROJECT_GOAL_ID, "Goal", "richText"),
                _TAGS,
                _CREATED,
                _UPDATED,
            ],
            [(ACTIVE_PROJECTS_COLLECTION_ID, "Active projects")],
        ),
    ]
    # Definitions are shared above; callers get their own copy to change freely.
    return copy.deepcopy(structures)


# --- property value helpers (writable wire form) -----------------------------------------------


def _day(day: datetime.date) -> str:
    return f"{day.isoformat()}T00:00:00.000Z"


def _timestamp(day: datetime.date, hour: int, minute: int = 0) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00.000Z"


def _date_value(start: datetime.date, end: datetime.date | None = None) -> dict[str, Any]:
    return {
        "type": "date",
        "date": {"dateResolution": "day", "start": _day(start), "end": _day(end) if end else None},
    }


def _label_value(options: list[dict[str, str]], *names: str) -> dict[str, Any]:
    by_name = {option["name"]: option for option in options}
    return {"type": "label", "label": [{"id": by_name[n]["id"], "name": n} for n in names]}


def _entity_value(*titles: str) -> dict[str, Any]:
    return {"type": "entity", "entity": [{"id": _object_id(title)} for title in titles]}


def _text_value(kind: str, value: str | float) -> dict[str, Any]:
    return {"type": kind, kind: {"value": value}}


def _rich_text(*parts: str | tuple[str, str]) -> dict[str, Any]:
    """Rich text from plain strings and `("bold"|"italic", text)` pairs."""
    tokens: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, tuple):
            style, text = part
            tokens.append({"type": "TextToken", "text": text, "style": {style: True}})
        else:
            tokens.append({"type": "TextToken", "text": part, "style": {}})
    return {"type": "richText", "richText": {"value": tokens}}


def _object_id(title: str) -> str:
    return seed_id(f"object:{title}")


# --- long notes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _LongNoteTopic:
    """The vocabulary one long note is woven from: real sentences, templates, list points."""

    key: str
    intro: str
    sections: tuple[str, ...]
    sentences: tuple[str, ...]
    templates: tuple[str, ...]
    fillers: dict[str, tuple[str, ...]]
    points: tuple[str, ...]
    quotes: tuple[str, ...]
    snippets: tuple[tuple[str, str], ...]
    links: tuple[str, ...]
    outro: str
    paragraphs_per_section: int = 3


_SPACED_REPETITION = _LongNoteTopic(
    key="spaced-repetition",
    intro=(
        "These are my working notes on spaced repetition: what the research says, where the "
        "effect is strong, where it is oversold, and how I use it day to day. Sources are "
        "linked where I have them; claims without a source are my own experience."
    ),
    sections=(
        "Ebbinghaus and the forgetting curve",
        "Replications and what they changed",
        "The spacing effect",
        "Retrieval practice",
        "Expanding versus uniform intervals",
        "Algorithms: from Leitner boxes to SM-2 and FSRS",
        "Desirable difficulties",
        "What to put on a card",
        "Spacing in classrooms",
        "Limits and open questions",
        "My own setup",
        "A review routine that survives busy weeks",
        "Measuring whether it works",
        "Summary",
    ),
    sentences=(
        "Hermann Ebbinghaus tested himself on lists of nonsense syllables in the 1880s.",
        "He measured forgetting as the time saved when relearning a list, not as recall.",
        "Most of what is forgotten is lost within the first day after learning.",
        "The curve flattens out: what survives the first week tends to survive much longer.",
        "A 2015 replication by Murre and Dros found a curve very close to the original.",
        "Spacing study sessions apart beats massing them together, even with equal total time.",
        "The benefit of spacing grows with the length of the retention interval.",
        "Cramming works for tomorrow's exam and fails for next month's.",
        "Testing yourself is a learning event, not just a measurement.",
        "Retrieval strengthens the memory that was retrieved and the route to it.",
        "Rereading feels productive because fluency is easily mistaken for mastery.",
        "Feedback after a failed retrieval turns the failure into a useful learning event.",
        "Expanding intervals are not clearly better than uniform ones in every study.",
        "What matters most is that the first review comes before the memory is gone.",
        "The Leitner system moves a card one box up when it is answered correctly.",
        "A wrong answer sends the card back to the first box, which is reviewed daily.",
        "SM-2 adjusts an ease factor for each card from a self-rated answer quality.",
        "FSRS models stability and difficulty separately and fits them to your review history.",
        "Good cards ask one thing, have one answer, and make sense without context.",
        "Cards made from your own words are remembered better than copied definitions.",
        "Cloze deletions are quick to make but easy to answer by pattern matching.",
        "Interleaving different kinds of problems helps learners pick the right method.",
        "Difficulties are desirable only when the learner can still overcome them.",
        "Teachers rarely revisit old material because the curriculum rewards moving on.",
        "Low-stakes quizzes at the start of a lesson are a cheap way to add spacing.",
        "Spaced repetition is excellent for facts and weaker for skills and understanding.",
        "A card deck is not a substitute for working with the ideas in writing.",
        "The habit matters more than the algorithm: ten minutes a day beats an hour on Sunday.",
        "Review debt grows quietly when new cards are added faster than old ones mature.",
        "I suspend cards that I keep failing and rewrite them instead of grinding through.",
    ),
    templates=(
        "In one study, learners who {method} recalled about {percent} percent of the material "
        "after {delay}, compared with {lower} percent for those who {other}.",
        "A review after {delay} is a reasonable default for {material}.",
        "Learners who {method} kept {material} for {delay} or longer in several studies.",
        "The gap between the groups was largest for {material} tested after {delay}.",
        "For {material}, a first review after {short} and a second after {delay} has worked well for me.",
        "The effect held for {material}, although the samples were small and mostly students.",
    ),
    fillers={
        "method": (
            "spaced their sessions",
            "tested themselves",
            "used flashcards daily",
            "explained the idea aloud",
            "interleaved problem types",
            "wrote summaries from memory",
        ),
        "other": (
            "reread the text",
            "crammed the night before",
            "highlighted passages",
            "studied in one long session",
            "copied their notes",
        ),
        "percent": ("48", "53", "61", "64", "70", "72", "80"),
        "lower": ("21", "28", "33", "35", "40"),
        "delay": ("one day", "two days", "a week", "ten days", "a month", "three months", "six months"),
        "short": ("an hour", "a few hours", "one day", "two days"),
        "material": (
            "vocabulary",
            "anatomy terms",
            "historical dates",
            "legal definitions",
            "programming idioms",
            "chess openings",
            "names and faces",
            "statistics formulas",
        ),
    },
    points=(
        "Review before the memory is gone, not after",
        "Keep cards atomic: one question, one answer",
        "Write cards in your own words",
        "Add context cues sparingly",
        "Suspend and rewrite leeches instead of grinding",
        "Limit new cards per day to keep review debt small",
        "Mix old and new material in each session",
        "Use images for things that are visual",
        "Prefer why-questions over what-questions where possible",
        "Track retention, not the number of reviews",
    ),
    quotes=(
        "The most effective learning strategies feel less productive while you use them.",
        "Forgetting is not the enemy of learning; it is what makes retrieval practice work.",
        "Memory is not a recording that fades, it is a reconstruction that we rebuild each time.",
    ),
    snippets=(
        (
            "python",
            "def next_interval(days: float, ease: float, quality: int) -> float:\n"
            "    if quality < 3:\n        return 1.0\n    return days * ease",
        ),
        (
            "python",
            "import math\n\ndef retention(t_days: float, stability: float) -> float:\n"
            "    return math.exp(-t_days / stability)",
        ),
    ),
    links=(
        "Forgetting curve - Wikipedia",
        "How to Take Smart Notes",
        "Thinking, Fast and Slow",
        "Weekly review checklist",
    ),
    outro="Next step: turn the open questions into a small experiment for the next month.",
)

_WEBSITE_RETROSPECTIVE = _LongNoteTopic(
    key="website-retrospective",
    intro=(
        "Retrospective for the [[Website relaunch]], written two weeks after launch with input "
        "from [[Maya Chen]] and [[Jonas Weber]]. The format is blameless: we describe what "
        "happened and what we change, not who is at fault."
    ),
    sections=(
        "Background",
        "Goals and how we measured them",
        "Timeline",
        "What went well",
        "What did not go well",
        "The content audit",
        "Design system",
        "Build and hosting",
        "Performance",
        "Accessibility",
        "The launch day incident",
        "Communication",
        "What we will do differently",
        "Action items",
    ),
    sentences=(
        "The old site had grown for six years on a CMS theme that nobody wanted to touch.",
        "Pages took more than four seconds to load on a mid-range phone.",
        "We agreed early to move to a static build served from a CDN.",
        "The content audit removed about a third of the pages, most of them outdated.",
        "Design tokens let us change colours and spacing in one place.",
        "Weekly demos kept stakeholders informed without long status meetings.",
        "The preview deployments for every pull request were the most loved feature.",
        "We underestimated how long it would take to migrate the blog archive.",
        "Redirects for old URLs were added late and we missed a few on launch day.",
        "The search console showed a spike of not-found errors in the first hour.",
        "Image optimisation alone cut the page weight of the home page in half.",
        "We set a performance budget and failed the build when a page exceeded it.",
        "Screen reader testing found problems that automated checks did not catch.",
        "The launch was moved by one week to fix the navigation on small screens.",
        "Two people held most of the knowledge about the build pipeline.",
        "The rollback plan was written but never rehearsed.",
        "Marketing needed more time to review copy than we had planned for.",
        "A shared checklist for launch day made the last hours calm.",
        "We should have involved customer support before launch, not after.",
        "The analytics setup was verified on staging, which saved us on launch day.",
        "Feedback from users in the first week was mostly about the new navigation.",
        "Our estimates were good for engineering work and poor for content work.",
        "Pairing designers with developers on components reduced rework noticeably.",
        "Nobody owned the content calendar after the launch, so updates slowed down.",
        "We kept a decision log, and it answered most of the questions that came up later.",
    ),
    templates=(
        "In week {week}, we {event}, which {effect}.",
        "The {metric_change}, and the decision to {change} was a big part of that.",
        "{person} pointed out that we {event} and suggested that we {change} next time.",
        "Looking back, the decision to {change} {effect}.",
        "By week {week}, the {metric_status}.",
    ),
    fillers={
        "week": ("2", "3", "5", "6", "8", "9", "11"),
        "event": (
            "finished the content audit",
            "froze the design system",
            "switched the staging environment to the CDN",
            "ran the first load test",
            "found a layout bug in Safari",
            "migrated the blog archive",
            "rehearsed the launch checklist",
            "missed a dependency upgrade",
        ),
        "effect": (
            "saved us at least a week",
            "caused two days of rework",
            "made the launch much calmer",
            "surprised the marketing team",
            "paid off during the incident",
            "added risk we did not see at the time",
        ),
        "metric_change": (
            "largest contentful paint on mobile improved from 4.2 s to 1.3 s",
            "time to first byte improved from 1.1 s to 0.2 s",
            "home page weight went down from 3.4 MB to 0.9 MB",
            "Lighthouse accessibility score went up from 71 to 96",
            "bounce rate on mobile dropped from 58 % to 41 %",
            "build time went down from 9 minutes to 3 minutes",
        ),
        "metric_status": (
            "largest contentful paint was 1.6 s, against a target of 1.5 s",
            "time to first byte was 0.3 s, right on the target",
            "home page weighed 1.2 MB, against a budget of 1 MB",
            "Lighthouse accessibility score was 92, against a target of 95",
            "build took 4 minutes, well under the 5 minute limit",
        ),
        "change": (
            "automate the redirects",
            "add a performance budget",
            "involve support earlier",
            "rehearse the rollback",
            "pair designers with developers",
            "write the runbook first",
            "freeze content a week before launch",
        ),
        "person": ("Maya", "Jonas", "Our product owner", "Someone from support", "The marketing lead"),
    },
    points=(
        "Rehearse the rollback, not just write it",
        "Generate redirects from the content inventory",
        "Keep the performance budget in CI",
        "Involve support two weeks before launch",
        "Name an owner for the content calendar",
        "Spread build pipeline knowledge to at least three people",
        "Budget content work separately from engineering work",
        "Keep the decision log going",
        "Run screen reader tests on every new component",
        "Schedule a follow-up retrospective after three months",
    ),
    quotes=(
        "Regardless of what we discover, we understand and truly believe that everyone did "
        "the best job they could, given what they knew at the time.",
        "The launch checklist was boring, and that was exactly the point.",
        "We optimised the pages and forgot to optimise the process.",
    ),
    snippets=(
        (
            "yaml",
            "budgets:\n  - path: /*\n    resourceSizes:\n      - resourceType: total\n        budget: 1000",
        ),
        (
            "bash",
            "npx lighthouse https://staging.example.com --only-categories=performance \\\n"
            "  --output=json --output-path=./report.json",
        ),
    ),
    links=(
        "Website relaunch",
        "Maya Chen",
        "Meeting notes: Q3 planning",
        "Write retrospective for website relaunch",
    ),
    outro="Owner of this document: me. Next review: three months after launch.",
)

_SMART_NOTES = _LongNoteTopic(
    key="smart-notes",
    intro=(
        "My summary of *How to Take Smart Notes* by [[Sönke Ahrens]]: the core argument, the "
        "workflow, and what I changed in my own note-taking after reading it."
    ),
    sections=(
        "The core argument",
        "Niklas Luhmann and the slip-box",
        "Fleeting notes",
        "Literature notes",
        "Permanent notes",
        "Linking and indexing",
        "Writing is the medium of thinking",
        "Bottom-up instead of top-down",
        "Elaboration over collection",
        "Why fewer decisions help",
        "Criticism and limits",
        "How I adapted it",
        "Favourite passages",
        "Takeaways",
    ),
    sentences=(
        "The book argues that writing is not the outcome of thinking but the medium of it.",
        "Niklas Luhmann wrote more than seventy books and hundreds of articles.",
        "He credited his productivity to a slip-box of about ninety thousand notes.",
        "Fleeting notes are reminders of thoughts, meant to be processed within a day or two.",
        "Literature notes capture what you understood from a text, briefly and in your words.",
        "Permanent notes are written as if for someone else, and they stand on their own.",
        "Every permanent note should be linked to at least one existing note.",
        "The index is only an entry point; the links between notes carry the structure.",
        "Topics emerge from the notes instead of being decided in advance.",
        "A blank page is the wrong place to start a piece of writing.",
        "When the notes are good, a draft is mostly a matter of arranging them.",
        "Collecting quotes without elaborating them creates a graveyard of notes.",
        "Explaining an idea in your own words reveals whether you understood it.",
        "Standardising the format of notes removes small decisions that drain attention.",
        "Ahrens connects the method to research on learning, including retrieval and spacing.",
        "The slip-box is meant to be a thinking partner that can surprise you.",
        "Digital tools make linking easier but also make hoarding easier.",
        "The method rewards steady daily work more than bursts of motivation.",
        "Ahrens repeats the main ideas often, which some readers find tiring.",
        "Luhmann's numbering scheme matters less than the habit of linking.",
        "A note that is never linked is effectively lost.",
        "The hardest part is writing permanent notes instead of just highlighting.",
        "Good notes make the next project easier, which creates a compounding effect.",
        "The book is short and practical, and the first three chapters carry most of it.",
    ),
    templates=(
        "In chapter {chapter}, Ahrens argues that {claim}.",
        "I tested this on {project}, and {result}.",
        "The idea that {claim} changed how I approach {project}.",
        "Compared with {tool}, the slip-box makes it easier to see that {claim}.",
        "A note on {subject} from last year turned out to {outcome}.",
    ),
    fillers={
        "chapter": ("1", "2", "3", "4", "6", "7", "9", "10", "12"),
        "claim": (
            "writing is the only thing that matters",
            "structure should emerge from notes",
            "we overestimate our ability to remember what we read",
            "elaboration is more valuable than collection",
            "a good workflow beats willpower",
            "feedback loops make work self-correcting",
            "copying quotes is not understanding",
        ),
        "project": (
            "the research note on spaced repetition",
            "my team's onboarding guide",
            "a conference talk proposal",
            "the website retrospective",
            "a blog post about code review",
        ),
        "result": (
            "the outline wrote itself from the linked notes",
            "half of the notes were too vague to be useful",
            "I found three notes that contradicted each other",
            "the draft took a day instead of a week",
        ),
        "outcome": (
            "connect two ideas I had never seen together",
            "be the seed of a whole chapter",
            "contradict a newer note on the same topic",
            "answer a question a colleague asked me",
        ),
        "tool": (
            "folders",
            "a single long document",
            "highlighting in an e-reader",
            "a task manager",
            "bookmarks",
        ),
        "subject": ("memory", "code review", "habits", "estimation", "feedback"),
    },
    points=(
        "Capture fleeting notes anywhere, process them daily",
        "Write literature notes in your own words",
        "Turn the best ideas into permanent notes",
        "Link every new note to existing ones",
        "Let topics emerge from clusters of notes",
        "Start writing projects from the notes, not from a blank page",
        "Keep one idea per note",
        "Prefer elaboration over collection",
        "Review and connect old notes regularly",
        "Keep the format simple and consistent",
    ),
    quotes=(
        "Writing is not what follows research, learning or studying, it is the medium of all this work.",
        "The slip-box is not a collection of notes, it is a system for thinking.",
        "Every intellectual endeavour starts from an already existing preconception.",
    ),
    snippets=(
        ("text", "Note 21/3a: Elaboration beats collection\nLinks: 21/3, 45/1b\nSource: Ahrens, ch. 10"),
        ("markdown", "## Permanent note\n\nOne idea, in my words.\n\nLinks: [[Memory]]"),
    ),
    links=(
        "Sönke Ahrens",
        "Research: Spaced repetition and the forgetting curve",
        "Deep Work",
        "Weekly review checklist",
    ),
    outro="Rating: five stars. The best short book on note-taking I know.",
)

_LONG_NOTE_TOPICS: dict[str, _LongNoteTopic] = {
    topic.key: topic for topic in (_SPACED_REPETITION, _WEBSITE_RETROSPECTIVE, _SMART_NOTES)
}


def _long_note(topic: _LongNoteTopic) -> str:
    """A several-thousand-word note built deterministically from the topic's sentences.

    Each section gets a heading, paragraphs mixing plain and templated sentences, and now and
    then a list, a checklist, a quote or a code block, so the note exercises every block kind.
    """
    rng = random.Random(f"long-note:{topic.key}")
    sentences = _SentenceSource(topic, rng)
    parts: list[str] = [topic.intro]
    for index, section in enumerate(topic.sections):
        parts.append(f"## {section}")
        for paragraph_index in range(topic.paragraphs_per_section):
            paragraph = [sentences.next() for _ in range(rng.randint(5, 8))]
            if paragraph_index == 0 and topic.links:
                link = topic.links[index % len(topic.links)]
                paragraph.append(f"See also [[{link}]].")
            parts.append(" ".join(paragraph))
        parts.append(_section_extra(topic, index, rng))
    parts.append(topic.outro)
    return "\n\n".join(part for part in parts if part)


class _SentenceSource:
    """Sentences without obvious repetition: plain ones dealt from a shuffled deck, templated
    ones re-drawn while they repeat an earlier one."""

    def __init__(self, topic: _LongNoteTopic, rng: random.Random) -> None:
        self._topic = topic
        self._rng = rng
        self._deck: list[str] = []
        self._seen: set[str] = set()

    def next(self) -> str:
        if self._topic.templates and self._rng.random() < 0.7:
            for _ in range(20):
                template = self._rng.choice(self._topic.templates)
                slots = {k: self._rng.choice(v) for k, v in self._topic.fillers.items()}
                sentence = template.format(**slots)
                if sentence not in self._seen:
                    self._seen.add(sentence)
                    return sentence
        if not self._deck:
            self._deck = list(self._topic.sentences)
            self._rng.shuffle(self._deck)
        return self._deck.pop()


def _section_extra(topic: _LongNoteTopic, index: int, rng: random.Random) -> str:
    kind = index % 5
    points = rng.sample(topic.points, k=min(4, len(topic.points)))
    if kind == 0:
        top, nested = points[:2], rng.sample([p for p in topic.points if p not in points], k=2)
        lines = [f"- {top[0]}", f"- {top[1]}", *(f"    - {point}" for point in nested)]
        return "\n".join(lines + [f"- {point}" for point in points[2:]])
    if kind == 1:
        return "\n".join(f"{n}. {point}" for n, point in enumerate(points, start=1))
    if kind == 2:
        return f"> {rng.choice(topic.quotes)}"
    if kind == 3:
        done = [rng.random() < 0.5 for _ in points]
        return "\n".join(f"- [{'x' if d else ' '}] {p}" for d, p in zip(done, points, strict=False))
    snippet = topic.snippets[(index // 5) % len(topic.snippets)]
    return f"```{snippet[0]}\n{snippet[1]}\n```"


# --- the demo space ----------------------------------------------------------------------------


def demo_space(today: datetime.date) -> SeedSpace:
    """The demo space as of `today` (the sandbox clock's day: `SandboxConfig.clock.today()`)."""
    objects = [
        *_tags(today),
        *_people(today),
        *_projects(today),
        *_books(today),
        *_pages(today),
        *_tasks(today),
        *_weblinks(today),
        *_daily_notes(today),
    ]
    space = {
        "id": DEMO_SPACE_ID,
        "title": "Demo space",
        "icon": {"type": "iconify", "val": "ph-planet"},
    }
    return SeedSpace(
        space=space,
        structures=_structures(),
        objects=objects,
        content_property=dict(CONTENT_PROPERTY),
    )


def _created(today: datetime.date, days_ago: int, hour: int = 9, minute: int = 0) -> str:
    return _timestamp(today - datetime.timedelta(days=days_ago), hour, minute)


def _obj(structure_id: str, title: str, created_at: str, markdown: str = "", **fields: Any) -> SeedObject:
    return SeedObject(
        id=_object_id(title),
        structure_id=structure_id,
        title=title,
        markdown=markdown.strip("\n"),
        created_at=created_at,
        **fields,
    )


TAG_TITLES = ("Research", "Learning", "Engineering", "Reading", "Productivity", "Health", "Travel")


def _tags(today: datetime.date) -> list[SeedObject]:
    about = {
        "Research": "Notes that collect evidence: papers, experiments and what they imply.",
        "Learning": "How to learn well: memory, practice and feedback.",
        "Engineering": "Software work: code, reviews, incidents and tooling.",
        "Reading": "Books and articles, with summaries and highlights.",
        "Productivity": "Systems for getting things done without burning out.",
        "Health": "Sleep, exercise, food and appointments.",
        "Travel": "Trips, itineraries and packing lists.",
    }
    return [
        _obj("RootTag", title, _created(today, 120, 8, n), about[title]) for n, title in enumerate(TAG_TITLES)
    ]


def _people(today: datetime.date) -> list[SeedObject]:
    people = [
        (
            "Sönke Ahrens",
            "Author and researcher",
            "University of Duisburg-Essen",
            "https://takesmartnotes.com",
            ("Reading",),
            "Author of [[How to Take Smart Notes]]. Writes about learning, writing and the "
            "*Zettelkasten* method of Niklas Luhmann.",
        ),
        (
            "Daniel Kahneman",
            "Psychologist",
            "Princeton University",
            None,
            ("Research",),
            "Nobel laureate in economics (2002). Known for prospect theory and the two-systems "
            "model described in [[Thinking, Fast and Slow]].",
        ),
        (
            "Andrew Hunt",
            "Author and programmer",
            "The Pragmatic Bookshelf",
            "https://pragprog.com",
            ("Engineering",),
            "Co-author of [[The Pragmatic Programmer]] with [[David Thomas]].",
        ),
        (
            "David Thomas",
            "Author and programmer",
            "The Pragmatic Bookshelf",
            "https://pragdave.me",
            ("Engineering",),
            "Co-author of [[The Pragmatic Programmer]]; coined *DRY* and *code kata*.",
        ),
        (
            "Cal Newport",
            "Computer scientist and author",
            "Georgetown University",
            "https://calnewport.com",
            ("Productivity",),
            "Author of [[Deep Work]]. Argues for long stretches of distraction-free focus.",
        ),
        (
            "Andy Weir",
            "Novelist",
            "Independent",
            "https://andyweirauthor.com",
            ("Reading",),
            "Author of *The Martian* and [[Project Hail Mary]].",
        ),
        (
            "Maya Chen",
            "Product designer",
            "Northwind Labs",
            None,
            (),
            "Design lead on the [[Website relaunch]].\n\n"
            "- Prefers async reviews in Figma\n- Based in Amsterdam (CET)\n"
            "- [ ] Send her the notes from [[Meeting notes: Q3 planning]]",
        ),
        (
            "Jonas Weber",
            "Backend engineer",
            "Northwind Labs",
            None,
            ("Engineering",),
            "Leads the [[Notes migration]] project.\n\n"
            "## 1:1 topics\n\n- Flaky integration tests\n    - retry budget\n"
            "    - test data isolation\n"
            "- On-call rotation for next quarter",
        ),
    ]
    return [
        _obj(
            PERSON_STRUCTURE_ID,
            name,
            _created(today, 100 - n, 10, n),
            body,
            properties={
                PERSON_ROLE_ID: _text_value("text", role),
                PERSON_ORGANIZATION_ID: _text_value("text", org),
                **({PERSON_WEBSITE_ID: _text_value("url", site)} if site else {}),
            },
            tags=tags,
        )
        for n, (name, role, org, site, tags, body) in enumerate(people)
    ]


def _projects(today: datetime.date) -> list[SeedObject]:
    day = datetime.timedelta(days=1)
    return [
        _obj(
            PROJECT_STRUCTURE_ID,
            "Website relaunch",
            _created(today, 90),
            _WEBSITE_PROJECT,
            properties={
                PROJECT_STATUS_ID: _label_value(PROJECT_STATUS, "Completed"),
                PROJECT_LEAD_ID: _entity_value("Maya Chen"),
                PROJECT_TIMELINE_ID: _date_value(today - 90 * day, today - 14 * day),
                PROJECT_GOAL_ID: _rich_text(
                    "Ship the new marketing site with ", ("bold", "sub-second"), " page loads."
                ),
            },
            tags=("Engineering",),
        ),
        _obj(
            PROJECT_STRUCTURE_ID,
            "Notes migration",
            _created(today, 30),
            _MIGRATION_PROJECT,
            properties={
                PROJECT_STATUS_ID: _label_value(PROJECT_STATUS, "Active"),
                PROJECT_LEAD_ID: _entity_value("Jonas Weber"),
                PROJECT_TIMELINE_ID: _date_value(today - 30 * day, today + 21 * day),
                PROJECT_GOAL_ID: _rich_text("Move every team note to the ", ("italic", "new"), " API."),
            },
            tags=("Engineering", "Productivity"),
            collections=(ACTIVE_PROJECTS_COLLECTION_ID,),
        ),
    ]


_WEBSITE_PROJECT = """
The marketing site moved from a CMS theme to a static build. Lead: [[Maya Chen]].

## Milestones

- [x] Content audit
- [x] Design system v2
- [x] Static build and CDN
- [x] Launch

The full write-up is in [[Retrospective: Website relaunch]].
"""

_MIGRATION_PROJECT = """
Move the team's notes from the legacy beta API to the v1 API before the beta shuts down.

## Plan

1. Inventory every script that calls the beta API
2. Port the client to the typed v1 SDK
    - OAuth instead of the user token
    - one token per space
3. Re-run the nightly import against a sandbox space

## Open questions

- How do we handle the stricter rate limits on `/space/structures`?
- Do we still need full-text search, now that search matches titles only?

Related: [[Migrate notes to the new API]], [[Jonas Weber]].
"""


def _books(today: datetime.date) -> list[SeedObject]:
    smart_notes_topic = _LONG_NOTE_TOPICS["smart-notes"]
    books = [
        (
            "How to Take Smart Notes",
            ("Sönke Ahrens",),
            5,
            ("Non-fiction", "Productivity"),
            "Finished",
            datetime.date(2017, 2, 24),
            ("A short guide to the ", ("italic", "Zettelkasten"), " and to writing as thinking."),
            _long_note(smart_notes_topic),
            (FAVORITE_BOOKS_COLLECTION_ID,),
        ),
        (
            "Thinking, Fast and Slow",
            ("Daniel Kahneman",),
            4,
            ("Non-fiction", "Psychology"),
            "Reading",
            datetime.date(2011, 10, 25),
            ("Two systems of thought, and the ", ("bold", "biases"), " that follow from them."),
            _KAHNEMAN_NOTES,
            (READING_LIST_COLLECTION_ID,),
        ),
        (
            "The Pragmatic Programmer",
            ("Andrew Hunt", "David Thomas"),
            5,
            ("Non-fiction", "Software"),
            "Finished",
            datetime.date(1999, 10, 20),
            ("Practical advice for working programmers.",),
            _PRAGMATIC_NOTES,
            (FAVORITE_BOOKS_COLLECTION_ID,),
        ),
        (
            "Deep Work",
            ("Cal Newport",),
            None,
            ("Non-fiction", "Productivity"),
            "To read",
            datetime.date(2016, 1, 5),
            ("Rules for focused success in a distracted world.",),
            "Recommended by [[Maya Chen]]. Start with part 2 (the four rules).",
            (READING_LIST_COLLECTION_ID,),
        ),
        (
            "Project Hail Mary",
            ("Andy Weir",),
            None,
            ("Fiction", "Science fiction"),
            "To read",
            datetime.date(2021, 5, 4),
            ("A lone astronaut, a dying sun, and an unlikely friend.",),
            "",
            (READING_LIST_COLLECTION_ID,),
        ),
    ]
    objects = []
    for n, (title, authors, rating, genres, status, published, summary, body, collections) in enumerate(
        books
    ):
        properties: dict[str, Any] = {
            BOOK_AUTHOR_ID: _entity_value(*authors),
            BOOK_GENRE_ID: _label_value(BOOK_GENRES, *genres),
            BOOK_STATUS_ID: _label_value(BOOK_STATUS, status),
            BOOK_PUBLISHED_ID: _date_value(published),
            BOOK_SUMMARY_ID: _rich_text(*summary),
        }
        if rating is not None:
            properties[BOOK_RATING_ID] = _text_value("number", rating)
        objects.append(
            _obj(
                BOOK_STRUCTURE_ID,
                title,
                _created(today, 80 - 7 * n, 21),
                body,
                properties=properties,
                tags=("Reading",),
                collections=collections,
            )
        )
    return objects


_KAHNEMAN_NOTES = """
## Part 1: Two systems

- **System 1** is fast, automatic and effortless.
- **System 2** is slow, deliberate and *lazy*: it accepts System 1's answers unless alerted.
    - The bat-and-ball problem: most people answer 10 cents, the answer is 5 cents.

> A reliable way to make people believe in falsehoods is frequent repetition, because
> familiarity is not easily distinguished from truth.

## Questions for the book club

- [ ] Is the two-systems model a metaphor or a claim about the brain?
- [ ] Which findings failed to replicate (priming)?

Compare with [[Research: Spaced repetition and the forgetting curve]].
"""

_PRAGMATIC_NOTES = """
## Tips I keep coming back to

1. Care about your craft
2. Don't live with broken windows
3. DRY: every piece of knowledge must have a single, unambiguous representation
4. Use tracer bullets to find the target

```python
# Tracer bullet: the thinnest end-to-end path, kept in production
def handle(request):
    return render(load(request.id))
```

> There are no final decisions.

Authors: [[Andrew Hunt]] and [[David Thomas]].
"""


def _pages(today: datetime.date) -> list[SeedObject]:
    research = _LONG_NOTE_TOPICS["spaced-repetition"]
    retrospective = _LONG_NOTE_TOPICS["website-retrospective"]
    lisbon_trip = today + datetime.timedelta(days=24)
    pages = [
        (
            "Welcome to your demo space",
            _WELCOME,
            ("Productivity",),
            _rich_text("Start here: what this space holds and how to explore it."),
            60,
        ),
        (
            "Research: Spaced repetition and the forgetting curve",
            _long_note(research),
            ("Research", "Learning"),
            _rich_text("Why reviews at growing intervals beat cramming, and how to use it."),
            45,
        ),
        (
            "Retrospective: Website relaunch",
            _long_note(retrospective),
            ("Engineering",),
            _rich_text("What went well, what did not, and what we change next time."),
            14,
        ),
        (
            "Meeting notes: Q3 planning",
            _Q3_MEETING,
            ("Productivity",),
            _rich_text("Priorities and owners for the next quarter."),
            6,
        ),
        (
            "Trip planning: Lisbon",
            _LISBON.format(start=lisbon_trip.isoformat()),
            ("Travel",),
            _rich_text("Four days in Lisbon: itinerary, bookings and packing."),
            20,
        ),
        (
            "Sourdough bread recipe",
            _SOURDOUGH,
            ("Health",),
            _rich_text("A reliable country loaf, ", ("bold", "75 %"), " hydration."),
            70,
        ),
        (
            "Home office setup",
            _HOME_OFFICE,
            ("Health", "Productivity"),
            _rich_text("Desk, light and sound for long focus sessions."),
            50,
        ),
        (
            "Weekly review checklist",
            _WEEKLY_REVIEW,
            ("Productivity",),
            _rich_text("Thirty minutes every Friday afternoon."),
            40,
        ),
        (
            "Snippets: Python and shell",
            _SNIPPETS,
            ("Engineering",),
            _rich_text("Small pieces of code worth keeping."),
            35,
        ),
    ]
    return [
        _obj(
            "RootPage",
            title,
            _created(today, days_ago, 8 + n),
            body,
            properties={"description": description},
            tags=tags,
        )
        for n, (title, body, tags, description, days_ago) in enumerate(pages)
    ]


_WELCOME = """
This is a **demo space** for trying the Capacities tools without touching your real notes.
Everything here is made up, but it is shaped like a real space: pages, tasks, tags, books,
people, projects, weblinks and a week of daily notes.

## What is in here

- Long notes to search and page through:
    - [[Research: Spaced repetition and the forgetting curve]]
    - [[Retrospective: Website relaunch]]
    - [[How to Take Smart Notes]] (a book summary)
- Tasks in every state, for example [[Review pull request for search API]]
- Two projects: [[Website relaunch]] and [[Notes migration]]
- A *Reading list* collection of books

The API behind all this is documented at
[developers.capacities.io](https://developers.capacities.io/).

## Things to try

- [ ] Search for "smart notes"
- [ ] Read this page as Markdown
- [ ] Add a to-do to today's daily note
- [x] Open the demo space

> Tip: titles are unique here, so `[[Title]]` links in Markdown resolve to the right object.

```bash
capacities-mcp sandbox --port 8765
```

---

Have fun, and remember that the sandbox forgets everything when it stops (unless you give it
a data file).
"""

_Q3_MEETING = """
Attendees: [[Maya Chen]], [[Jonas Weber]], me.

## Decisions

1. The [[Notes migration]] is the top priority until the beta API shuts down
2. No new marketing pages until the migration ships
3. Design debt from the [[Website relaunch]] goes into the backlog

## Action items

- [ ] [[Draft Q3 planning agenda]] for the all-hands
- [ ] [[Fix flaky integration test]] before the next release
- [x] Share the retrospective

## Notes

- Hiring: one more backend engineer
    - Job post draft by end of month
    - Interview loop: 3 rounds
- Budget for conferences is unchanged

> "Let's not plan more than we can review." — Maya
"""

_LISBON = """
Trip starts {start}. Four days, flights booked (see [[Book flights to Lisbon]]). Tram
tickets and museum hours: [Visit Lisboa](https://www.visitlisboa.com/en).

## Itinerary

1. Day 1: Alfama, Castelo de São Jorge, fado in the evening
2. Day 2: Belém (tower, monastery, *pastéis de nata*)
3. Day 3: Day trip to Sintra
    - Pena Palace: buy tickets online
    - Quinta da Regaleira
4. Day 4: LX Factory, sunset at Miradouro da Senhora do Monte

## Packing

- [x] Passport (check [[Renew passport]]!)
- [ ] Comfortable shoes (the hills!)
- [ ] Power adapter (type F)
- [ ] Light rain jacket

## Budget

| Item | Cost |
|---|---|
| Flights | 240 EUR |
| Hotel (3 nights) | 390 EUR |
| Food and transport | 200 EUR |
"""

_SOURDOUGH = """
Makes one loaf. Total time about 24 hours, mostly waiting.

## Ingredients

- 400 g bread flour
- 100 g whole wheat flour
- 375 g water (75 % hydration)
- 100 g active starter (see [[Prepare sourdough starter]])
- 10 g salt

## Method

1. Mix flour and 350 g water, rest 1 hour (autolyse)
2. Add starter, salt and the remaining water; squeeze until absorbed
3. Bulk ferment 4 to 5 hours at 24 °C with four sets of stretch and folds
    - every 30 minutes for the first 2 hours
    - then leave it alone
4. Shape, put in a banneton, refrigerate overnight
5. Bake in a Dutch oven: 20 minutes at 250 °C lid on, 25 minutes at 230 °C lid off

> The dough is ready when it has grown by about half and jiggles when you shake the bowl.
"""

_HOME_OFFICE = """
## Desk

- Standing desk, switch every 45 minutes
- Monitor at eye height, arm's length away
- Keyboard: split, tented

## Light and sound

- Daylight lamp in winter mornings
- Noise-cancelling headphones for [[Deep Work]] blocks
- [ ] Buy a second plant
- [x] Move the desk next to the window

> Good ergonomics is boring: the best setup is the one you stop noticing.
"""

_WEEKLY_REVIEW = """
Every Friday, 16:00, thirty minutes. See [[Home office setup]] for the focus routine.

## Get clear

- [ ] Empty the inbox and the desk
- [ ] Process loose notes into the daily notes
- [ ] Review the last seven daily notes

## Get current

- [ ] Review open tasks and deadlines
- [ ] Update the status of active projects
    - [ ] [[Notes migration]]
- [ ] Check the calendar for the next two weeks

## Get creative

- [ ] One idea worth exploring next week
- [ ] One book chapter (currently [[Thinking, Fast and Slow]])
"""

_SNIPPETS = """
## Retry with exponential backoff

```python
import random
import time


def retry(call, attempts=5, base=0.5):
    for attempt in range(attempts):
        try:
            return call()
        except TimeoutError:
            time.sleep(base * 2**attempt + random.random() * base)
    return call()
```

## Find large files

```bash
find . -type f -size +50M -exec ls -lh {} + | sort -k5 -h
```

## Inline math and code

The expected number of attempts is $\\sum_{k=0}^{n} p^k$, and `retry()` never waits longer
than `base * 2**attempts`.

$$
T = \\sum_{k=0}^{n-1} b \\cdot 2^k = b\\,(2^n - 1)
$$
"""


def _tasks(today: datetime.date) -> list[SeedObject]:
    day = datetime.timedelta(days=1)
    tasks: list[tuple[str, str, str, dict[str, datetime.date], tuple[str, ...], str]] = [
        (
            "Draft Q3 planning agenda",
            "In progress",
            "High",
            {"deadline": today + 2 * day},
            ("Productivity",),
            "From [[Meeting notes: Q3 planning]].\n\n- [x] Collect topics\n- [ ] Time boxes\n"
            "- [ ] Send to [[Maya Chen]]",
        ),
        (
            "Renew passport",
            "Not started",
            "Medium",
            {"deadline": today + 30 * day},
            ("Travel",),
            "Needed for [[Trip planning: Lisbon]]. Bring two biometric photos.",
        ),
        (
            "Book flights to Lisbon",
            "Done",
            "High",
            {"completed": today - 3 * day},
            ("Travel",),
            "Booked. Confirmation code `KX7Q2M`, seats 14A and 14B.",
        ),
        (
            "Review pull request for search API",
            "In progress",
            "High",
            {"deadline": today},
            ("Engineering",),
            "## Checklist\n\n- [x] Read the diff\n- [ ] Run the tests locally\n"
            "- [ ] Check the `limit` bounds (1 to 50)\n\n```python\nassert 1 <= limit <= 50\n```",
        ),
        (
            "Write retrospective for website relaunch",
            "Done",
            "Medium",
            {"completed": today - 5 * day},
            ("Engineering",),
            "Done: [[Retrospective: Website relaunch]].",
        ),
        ("Schedule dentist appointment", "Not started", "Low", {}, ("Health",), ""),
        (
            "Read chapter 4 of Thinking, Fast and Slow",
            "Not started",
            "Low",
            {"date": today + day},
            ("Reading",),
            "Chapter 4: *The Associative Machine*.",
        ),
        (
            "Fix flaky integration test",
            "In progress",
            "Medium",
            {"deadline": today - day},
            ("Engineering",),
            "Fails about 1 in 20 runs on CI.\n\n> AssertionError: expected 3 results, got 2\n\n"
            "- Suspect: test data shared between workers\n    - give each worker its own space",
        ),
        (
            "Prepare sourdough starter",
            "Done",
            "Low",
            {"completed": today - 10 * day},
            ("Health",),
            "Feed 1:5:5 twice a day for a week. See [[Sourdough bread recipe]].",
        ),
        (
            "Migrate notes to the new API",
            "Not started",
            "High",
            {"deadline": today + 7 * day},
            ("Engineering", "Productivity"),
            "Part of [[Notes migration]].",
        ),
    ]
    objects = []
    for n, (title, status, priority, dates, tags, body) in enumerate(tasks):
        properties: dict[str, Any] = {
            "status": _label_value(TASK_STATUS, status),
            "priority": _label_value(TASK_PRIORITY, priority),
        }
        for key, value in dates.items():
            properties[key] = _date_value(value)
        objects.append(
            _obj("RootTask", title, _created(today, 12 - n, 9, 5 * n), body, properties=properties, tags=tags)
        )
    return objects


def _weblinks(today: datetime.date) -> list[SeedObject]:
    links = [
        (
            "CommonMark Spec",
            "https://spec.commonmark.org/0.31.2/",
            "A strongly defined, highly compatible specification of Markdown.",
            ("Engineering",),
            "The reference for how `*` and `_` emphasis really works (the *rule of 3*).",
        ),
        (
            "Forgetting curve - Wikipedia",
            "https://en.wikipedia.org/wiki/Forgetting_curve",
            "The decline of memory retention in time.",
            ("Research", "Learning"),
            "Background for [[Research: Spaced repetition and the forgetting curve]].",
        ),
        (
            "Capacities API documentation",
            "https://developers.capacities.io/",
            "Reference for the Capacities REST API.",
            ("Engineering",),
            "- Rate limits are per token and per endpoint\n- Search matches titles only",
        ),
        (
            "Visit Lisboa",
            "https://www.visitlisboa.com/en",
            "Official tourism site of Lisbon.",
            ("Travel",),
            "For [[Trip planning: Lisbon]].",
        ),
    ]
    return [
        _obj(
            "MediaWebResource",
            title,
            _created(today, 25 - 4 * n, 19),
            notes,
            properties={"description": _text_value("text", description)},
            tags=tags,
            url=url,
        )
        for n, (title, url, description, tags, notes) in enumerate(links)
    ]


_DAILY_ENTRIES = (
    (
        "07:40",
        "Morning pages. Slept well; energy is good.\n\n- Plan: one deep work block before "
        "lunch\n- [ ] [[Review pull request for search API]]",
    ),
    (
        "09:15",
        "Stand-up with [[Jonas Weber]]: the flaky test is back.\n\n- [ ] Pair on "
        "[[Fix flaky integration test]] after lunch",
    ),
    ("12:30", "Lunch walk with [[Maya Chen]]. She recommended [[Deep Work]]."),
    (
        "14:00",
        "Read two chapters of [[Thinking, Fast and Slow]].\n\n> Nothing in life is as "
        "important as you think it is, while you are thinking about it.",
    ),
    (
        "16:45",
        "Reviewed [[Notes migration]] progress.\n\n1. Client ported\n2. OAuth done\n"
        "3. Import script still on the beta API",
    ),
    ("18:10", "Baked bread ([[Sourdough bread recipe]]): better oven spring this time."),
    ("21:30", "Shutdown ritual.\n\n- [x] Inbox zero\n- [x] Plan tomorrow\n- [ ] Stretch"),
    (
        "10:20",
        "Idea: spaced repetition for meeting notes, see "
        "[[Research: Spaced repetition and the forgetting curve]].",
    ),
    (
        "15:05",
        "Code review notes:\n\n```diff\n- results = search(query)\n"
        "+ results = search(query, limit=limit)\n```",
    ),
)


def _daily_notes(today: datetime.date) -> list[SeedObject]:
    """One note per day for the week ending `today`, titled as the API titles them."""
    notes = []
    for days_ago in range(6, -1, -1):
        day = today - datetime.timedelta(days=days_ago)
        rng = random.Random(f"daily:{days_ago}")
        entries = sorted(rng.sample(_DAILY_ENTRIES, k=3 if days_ago else 2))
        body = "\n\n".join(f"**{time}** {text}" for time, text in entries)
        notes.append(
            SeedObject(
                id=seed_id(f"daily:{days_ago}"),
                structure_id="RootDailyNote",
                title=_day(day),
                markdown=body,
                created_at=_timestamp(day, 6, 30),
            )
        )
    return notes
