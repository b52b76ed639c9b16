"""Everything in a generated site besides the document library's files.

Wiki pages and blog posts (content Quarry indexes), comments (``fm:post`` nodes a
type-based search also finds), and the containers a crawler must skip: calendar events,
discussions, data lists, links and surf-config. Plus a file link and a locked file.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from devtools.alfresco_sim.model import Content, Node, format_timestamp
from devtools.alfresco_sim.sample_text import document_text, document_title
from devtools.alfresco_sim.text_index import html_to_text

if TYPE_CHECKING:
    from devtools.alfresco_sim.generator import GeneratorConfig
    from devtools.alfresco_sim.repository import Repository
    from devtools.alfresco_sim.sample_population import SiteSpec

NodeFactory = Callable[..., Node]


def _html(title: str, text: str) -> str:
    paragraphs = "".join(f"<p>{s.strip()}.</p>" for s in text.split(".") if s.strip())
    return f"<h2>{title}</h2>{paragraphs}"


class SiteExtras:
    def __init__(
        self,
        repository: Repository,
        rng: random.Random,
        make_node: NodeFactory,
        next_time: Callable[[], datetime],
    ) -> None:
        self.repo = repository
        self.rng = rng
        self.make_node = make_node
        self.next_time = next_time

    def populate(
        self,
        spec: SiteSpec,
        containers: dict[str, Node],
        files: list[Node],
        authors: list[str],
        config: GeneratorConfig,
    ) -> None:
        marks = self.repo.landmarks
        site = spec.id
        for index in range(config.wiki_pages_per_site):
            topic = spec.topics[(index + 1) % len(spec.topics)]
            title = f"{document_title(topic, index)} wiki {index + 1}"
            page = self.repo.add_wiki_page(
                site,
                title,
                _html(title, document_text(self.rng, topic)),
                by=authors[index % len(authors)],
                at=self.next_time(),
            )
            marks.setdefault(f"{site}.wiki_page", page)
        for index in range(config.blog_posts_per_site):
            topic = spec.topics[(index + 2) % len(spec.topics)]
            title = f"{document_title(topic, index + 1)}: an update"
            post = self.repo.add_blog_post(
                site,
                title,
                _html(title, document_text(self.rng, topic)),
                by=authors[index % len(authors)],
                at=self.next_time(),
            )
            marks.setdefault(f"{site}.blog_post", post)
        self._file_landmarks(site, files)
        self._comments(site, files, authors)
        self._file_link_and_lock(site, containers["documentLibrary"], files, authors[0])
        self._calendar(site, containers["calendar"], authors[0])
        self._discussions(site, containers["discussions"], authors, spec.topics[0])
        self._data_lists(site, containers["dataLists"], authors[0])
        self._links(site, containers["links"], authors[0])
        self._surf_config(site, containers["surf-config"])

    def _file_landmarks(self, site: str, files: list[Node]) -> None:
        for node in files:
            mime = node.content.mime_type if node.content else ""
            kind = {"application/pdf": "pdf", "image/png": "png", "text/html": "html"}.get(mime)
            if "wordprocessingml" in mime:
                kind = "docx"
            if kind:
                self.repo.landmarks.setdefault(f"{site}.{kind}", node.id)
            if any(ord(ch) > 0x2000 for ch in node.name):
                self.repo.landmarks.setdefault(f"{site}.unicode_name", node.id)

    def _comments(self, site: str, files: list[Node], authors: list[str]) -> None:
        for index, node in enumerate(files[:3]):
            for number in range(1 + index % 2):
                author = authors[(index + number) % len(authors)]
                comment = self.repo.add_comment(
                    node.id,
                    f"Reviewed section {number + 1}; the figures look right to me.",
                    by=author,
                    at=self.next_time(),
                )
                self.repo.landmarks.setdefault(f"{site}.comment", comment)
            self.repo.landmarks.setdefault(f"{site}.commented_file", node.id)

    def _file_link_and_lock(self, site: str, library: Node, files: list[Node], by: str) -> None:
        target = files[0]
        link = self.make_node(
            library.id,
            f"Link to {target.name}",
            "app:filelink",
            by,
            properties={"cm:destination": target.id, "cm:title": f"Link to {target.name}"},
        )
        self.repo.landmarks[f"{site}.file_link"] = link.id
        locked = files[1]
        locked.aspects.append("cm:lockable")
        locked.properties.update(
            {"cm:lockType": "WRITE_LOCK", "cm:lockOwner": {"id": by, "displayName": by}}
        )
        self.repo.landmarks[f"{site}.locked_file"] = locked.id

    def _stamp(self) -> tuple[datetime, int]:
        moment = self.next_time()
        return moment, int(moment.timestamp() * 1000)

    def _calendar(self, site: str, calendar: Node, by: str) -> None:
        for number, (what, where) in enumerate(
            [("Sprint review", "Room Harbour"), ("Quarterly planning", "Main hall")]
        ):
            moment, millis = self._stamp()
            start = moment + timedelta(days=7)
            event = self.make_node(
                calendar.id,
                f"{millis}-{number}.ics",
                "ia:calendarEvent",
                by,
                properties={
                    "ia:whatEvent": what,
                    "ia:whereEvent": where,
                    "ia:descriptionEvent": f"{what} for the {site} team",
                    "ia:fromDate": format_timestamp(start),
                    "ia:toDate": format_timestamp(start + timedelta(hours=1)),
                },
            )
            self.repo.landmarks.setdefault(f"{site}.calendar_event", event.id)

    def _discussions(self, site: str, discussions: Node, authors: list[str], topic: str) -> None:
        _, millis = self._stamp()
        thread = self.make_node(
            discussions.id,
            f"post-{millis}_1",
            "fm:topic",
            authors[0],
            aspects=["cm:titled"],
            properties={"cm:title": "Questions about the new process"},
        )
        for number in range(2):
            html = _html("Re: process", document_text(self.rng, topic, 2))
            post = self.make_node(
                thread.id,
                f"post-{millis}_{number + 2}",
                "fm:post",
                authors[number % len(authors)],
                content=Content(html.encode(), "text/html", html_to_text(html)),
            )
            self.repo.landmarks.setdefault(f"{site}.discussion_post", post.id)

    def _data_lists(self, site: str, data_lists: Node, by: str) -> None:
        task_list = self.make_node(
            data_lists.id,
            self.repo.new_id(),
            "dl:dataList",
            by,
            aspects=["cm:titled"],
            properties={"cm:title": "Release tasks", "dl:dataListItemType": "dl:task"},
        )
        for title, priority in [("Freeze the branch", "High"), ("Update the changelog", "Low")]:
            item = self.make_node(
                task_list.id,
                self.repo.new_id(),
                "dl:task",
                by,
                aspects=["cm:titled"],
                properties={
                    "cm:title": title,
                    "dl:taskPriority": priority,
                    "dl:taskStatus": "Not Started",
                },
            )
            self.repo.landmarks.setdefault(f"{site}.data_list_item", item.id)

    def _links(self, site: str, links: Node, by: str) -> None:
        _, millis = self._stamp()
        link = self.make_node(
            links.id,
            f"link-{millis}_1",
            "lnk:link",
            by,
            properties={
                "lnk:title": "Alfresco REST API explorer",
                "lnk:url": "https://api-explorer.alfresco.com",
                "lnk:description": "Reference for the public REST API",
            },
        )
        self.repo.landmarks[f"{site}.link"] = link.id

    def _surf_config(self, site: str, surf: Node) -> None:
        pages = self.make_node(surf.id, "pages", "cm:folder", "System")
        site_pages = self.make_node(pages.id, "site", "cm:folder", "System")
        own = self.make_node(site_pages.id, site, "cm:folder", "System")
        xml = f'<?xml version="1.0" encoding="UTF-8"?><page><id>site/{site}/dashboard</id></page>'
        dashboard = self.make_node(
            own.id,
            "dashboard.xml",
            "cm:content",
            "System",
            content=Content(xml.encode(), "text/xml", html_to_text(xml)),
        )
        self.repo.landmarks[f"{site}.surf_config_file"] = dashboard.id
