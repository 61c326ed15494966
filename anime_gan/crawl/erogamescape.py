"""The game list: the paper's SQL query (Appendix 8.1) posted to ErogameScape's SQL form.

ErogameScape answers with an HTML page: the result in ``<div id="query_result_main"><table>``
(first row ``<th>`` column names, then ``<tr><td>`` rows), or "エラー(SQL間違い)" in
``#query_result_header`` when the query is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from anime_gan.crawl.client import FetchError, PoliteClient
from anime_gan.errors import UserError

FORM_URL = "https://erogamescape.dyndns.org/~ap2/ero/toukei_kaiseki/sql_for_erogamer_form.php"
PAPER_SQL = (
    "SELECT g.id, g.gamename, g.sellday, 'www.getchu.com/soft.phtml?id=' || g.comike as links "
    "FROM gamelist g WHERE g.comike is NOT NULL ORDER BY g.sellday"
)
SQL_ERROR_MARK = "エラー(SQL間違い)"
#: Column names accepted for the Getchu link (a URL with ``id=N``, or the bare number).
LINK_COLUMNS = ("links", "link", "comike", "getchu_id")


@dataclass
class QuerySettings:
    """``erogamescape.*`` in conf/crawl.yaml."""

    url: str = FORM_URL
    sql: str = PAPER_SQL
    #: ErogameScape's release date for "not decided yet" (the paper's Fig. 13 shows it as 2030).
    undetermined_year: int = 2030


@dataclass
class Game:
    """One Getchu page to crawl. ``game_id`` is the Getchu id (the ``brandnew/<id>/`` folder)."""

    game_id: int
    egs_id: int | None
    name: str
    release_date: str | None  # "YYYY-MM-DD"; None when unknown or undetermined
    year: int | None
    page_url: str


class ResultTableParser(HTMLParser):
    """The rows of ``#query_result_main``'s table and the text of ``#query_result_header``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.header_text: list[str] = []
        self.found_main = False
        self._divs: list[str | None] = []  # the ids of the divs around the current tag
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        in_main = "query_result_main" in self._divs
        if tag == "div":
            self._divs.append(dict(attrs).get("id"))
            self.found_main |= self._divs[-1] == "query_result_main"
        elif in_main and tag == "tr":
            self.rows.append([])
        elif in_main and tag in ("td", "th") and self.rows:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self._divs:
            self._divs.pop()
        elif tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if "query_result_header" in self._divs:
            self.header_text.append(data)


def parse_result_page(html: str, url: str = FORM_URL) -> list[dict[str, str]]:
    """The result table as a list of {column: cell}; a UserError for an SQL error or no table."""
    parser = ResultTableParser()
    parser.feed(html)
    parser.close()
    header = " ".join("".join(parser.header_text).split())
    if SQL_ERROR_MARK in header or (not parser.found_main and SQL_ERROR_MARK in html):
        raise UserError(
            f"ErogameScape rejected the SQL query ({header[:200] or SQL_ERROR_MARK}); "
            f"fix erogamescape.sql in conf/crawl.yaml or on the command line."
        )
    if not parser.found_main:
        raise UserError(
            f"ErogameScape's answer from {url} has no div#query_result_main result table; "
            f"open that page in a browser to see whether the site changed."
        )
    names, *rows = [row for row in parser.rows if row] or [[]]  # the column names come first
    columns = [name.lower() for name in names]
    return [dict(zip(columns, row, strict=False)) for row in rows]


def games_from_rows(
    rows: list[dict[str, str]], getchu_base_url: str, undetermined_year: int = 2030
) -> list[Game]:
    """Games in query order, one per Getchu page (the first row of a repeated page wins)."""
    if rows and not any(c in rows[0] for c in LINK_COLUMNS):
        raise UserError(
            f"the SQL result has no Getchu link column (one of {', '.join(LINK_COLUMNS)}); "
            f"select it as in the paper: ... 'www.getchu.com/soft.phtml?id=' || g.comike as links."
        )
    games: dict[int, Game] = {}
    for row in rows:
        game_id = _getchu_id(next(row[c] for c in LINK_COLUMNS if c in row))
        if game_id is None or game_id in games:
            continue
        release_date, year = parse_release_date(row.get("sellday"), undetermined_year)
        egs_id = row.get("id", "").strip()
        games[game_id] = Game(
            game_id=game_id,
            egs_id=int(egs_id) if egs_id.isdigit() else None,
            name=row.get("gamename", ""),
            release_date=release_date,
            year=year,
            page_url=getchu_page_url(getchu_base_url, game_id),
        )
    return list(games.values())


def parse_release_date(
    value: str | None, undetermined_year: int = 2030
) -> tuple[str | None, int | None]:
    """("YYYY-MM-DD", year), or (None, None) for a missing, malformed or undetermined date."""
    match = re.match(r"(\d{4})-\d{2}-\d{2}", (value or "").strip())
    if not match or int(match.group(1)) >= undetermined_year:
        return None, None
    return match.group(0), int(match.group(1))


def fetch_games(client: PoliteClient, settings: QuerySettings, getchu_base_url: str) -> list[Game]:
    """Post the query and return its games; a UserError when ErogameScape cannot answer."""
    try:
        response = client.post_form(settings.url, {"sql": settings.sql})
    except FetchError as e:
        if e.cause == "robots":
            raise UserError(
                f"ErogameScape's robots.txt disallows its query form {settings.url}, "
                f"so the crawl does not post to it (http.obey_robots)."
            ) from e
        raise UserError(
            f"could not get the game list from ErogameScape ({e.cause} at {settings.url}); "
            f"check the internet connection and run the crawl again."
        ) from e
    if response.status != 200:
        raise UserError(
            f"ErogameScape answered HTTP {response.status} at {settings.url}; "
            f"check erogamescape.url and try again later."
        )
    rows = parse_result_page(response.text("utf-8"), settings.url)
    return games_from_rows(rows, getchu_base_url, settings.undetermined_year)


def getchu_page_url(base_url: str, game_id: int) -> str:
    """The Getchu page of a game: ``<base>/soft.phtml?id=<game_id>``."""
    return f"{base_url.rstrip('/')}/soft.phtml?id={game_id}"


def _getchu_id(link: str) -> int | None:
    """The Getchu id of a link column: the bare number, or the ``id=N`` of a URL."""
    link = link.strip()
    if link.isdigit():
        return int(link)
    match = re.search(r"[?&]id=(\d+)", link)
    return int(match.group(1)) if match else None
