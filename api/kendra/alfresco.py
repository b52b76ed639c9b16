"""Kendra's ``AlfrescoConfiguration`` ↔ the Alfresco connector's config (``AlfrescoConfig``).

References replace AWS resources: ``SecretArn`` is a Quarry secret reference holding
``{"username", "password"}``, and ``SslCertificateS3Path`` names a local CA file as
``{"Bucket": "file", "Key": "/absolute/path.pem"}`` (or ``{"Bucket": "system", "Key": "-"}``
for the system trust store). Kendra's field names cannot contain ``:``, so a
``DataSourceFieldName`` of ``cm_title`` means the Alfresco property ``cm:title``.
"""

from __future__ import annotations

from typing import Any

from api.kendra import shapes
from api.kendra.errors import validation
from connectors.alfresco.config import FieldMappings, Part, fields_of


def _pascal(name: str) -> str:
    """``crawl_system_folders`` → ``CrawlSystemFolders``: Kendra's spelling of a config field."""
    return "".join(part.capitalize() for part in name.split("_"))


PATH = "Configuration.AlfrescoConfiguration."
DATE_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSZ"

CONTROLLED = fields_of(Part.SCOPE, Part.ACCESS)
"""The connector config fields Kendra's form sets; the rest (tuning, auth mode) stay Quarry's."""
_RENAMED = {"site_ids": "SiteId", "secret_ref": "SecretArn", "ssl_ca_cert": "SslCertificateS3Path"}
_MAPPINGS = {
    f"{_pascal(name)}FieldMappings": name for name in FieldMappings.model_fields
}  # DocumentLibraryFieldMappings → document_library, ...
KENDRA_NAMES = {
    **{name: _RENAMED.get(name, _pascal(name)) for name in CONTROLLED if name != "field_mappings"},
    **{target: name for name, target in _MAPPINGS.items()},
}
"""Connector config names → Kendra member names, derived from ``AlfrescoConfig``."""
_SUPPORTED = tuple(KENDRA_NAMES.values())


def to_config(alfresco: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    """The connector config for a Kendra ``AlfrescoConfiguration`` (what Kendra controls)."""
    shapes.ignore(alfresco, _SUPPORTED, warnings, PATH, silent=("VpcConfiguration",))
    if alfresco.get("VpcConfiguration") is not None:
        warnings.append(f"{PATH}VpcConfiguration: Quarry connects from its own network; ignored")
    secret = shapes.required(alfresco, "SecretArn", 1284, PATH)
    if not secret.startswith(("env:", "file:")):
        raise validation(
            f"{PATH}SecretArn: give a Quarry secret reference (env:NAME or "
            'file:/absolute/path) holding {"username", "password"}, not an ARN'
        )
    config: dict[str, Any] = {
        "site_url": shapes.required(alfresco, "SiteUrl", 2048, PATH),
        "site_ids": [shapes.required(alfresco, "SiteId", 128, PATH)],
        "secret_ref": secret,
        "ssl_ca_cert": _ca_file(shapes.obj(alfresco, "SslCertificateS3Path", PATH)),
        "crawl_system_folders": shapes.boolean(alfresco, "CrawlSystemFolders", False, PATH),
        "crawl_comments": shapes.boolean(alfresco, "CrawlComments", False, PATH),
        "inclusion_patterns": shapes.strings(alfresco, "InclusionPatterns", PATH) or [],
        "exclusion_patterns": shapes.strings(alfresco, "ExclusionPatterns", PATH) or [],
        "field_mappings": {
            target: [
                _mapping(m, f"{PATH}{name}[{i}].", warnings)
                for i, m in enumerate(shapes.objects(alfresco, name, PATH))
            ]
            for name, target in _MAPPINGS.items()
        },
    }
    entities = shapes.strings(alfresco, "EntityFilter", PATH)
    if entities:
        config["entity_filter"] = entities
    return config


def _ca_file(location: dict[str, Any] | None) -> str | None:
    if location is None:
        return None
    where = f"{PATH}SslCertificateS3Path"
    bucket, key = location.get("Bucket"), location.get("Key")
    if bucket == "system":
        return None
    if bucket == "file" and isinstance(key, str) and key.startswith("/"):
        return key
    raise validation(
        f'{where}: Quarry reads no S3; give {{"Bucket": "file", "Key": '
        '"/absolute/ca.pem"}} or {"Bucket": "system", "Key": "-"} for the '
        "system trust store"
    )


def _mapping(mapping: dict[str, Any], where: str, warnings: list[str]) -> dict[str, str]:
    source = shapes.required(mapping, "DataSourceFieldName", 100, where)
    target = shapes.required(mapping, "IndexFieldName", 30, where)
    if target.startswith("_"):
        raise validation(
            f"{where}IndexFieldName: Quarry fills the reserved attributes (_...) "
            "itself; map to a custom attribute name"
        )
    if ":" not in source:
        prefix, sep, local = source.partition("_")
        if not sep or not prefix or not local:
            raise validation(
                f"{where}DataSourceFieldName: name an Alfresco property as "
                "prefix_name (cm_title) or prefix:name (cm:title)"
            )
        source = f"{prefix}:{local}"
    date = mapping.get("DateFieldFormat")
    if date:
        warnings.append(f"{where}DateFieldFormat: not needed, Alfresco dates are read as ISO 8601")
    return {"source": source, "target": target, "type": "date" if date else "string"}


def from_config(config: dict[str, Any]) -> dict[str, Any]:
    """The Kendra view of a stored connector config, for DescribeDataSource."""
    ca = config.get("ssl_ca_cert")
    sites = config.get("site_ids") or [""]
    out: dict[str, Any] = {
        "SiteUrl": config.get("site_url"),
        "SiteId": sites[0],
        "SecretArn": config.get("secret_ref"),
        "SslCertificateS3Path": {"Bucket": "file", "Key": ca}
        if ca
        else {"Bucket": "system", "Key": "-"},
        "CrawlSystemFolders": bool(config.get("crawl_system_folders", False)),
        "CrawlComments": bool(config.get("crawl_comments", False)),
        "EntityFilter": config.get("entity_filter") or ["documentLibrary", "wiki", "blog"],
        "InclusionPatterns": config.get("inclusion_patterns") or [],
        "ExclusionPatterns": config.get("exclusion_patterns") or [],
    }
    mappings = config.get("field_mappings") or {}
    for name, target in _MAPPINGS.items():
        out[name] = [
            {
                "DataSourceFieldName": _kendra_field(m["source"]),
                "IndexFieldName": m["target"],
                **({"DateFieldFormat": DATE_FORMAT} if m.get("type") == "date" else {}),
            }
            for m in mappings.get(target) or []
        ]
    return out


def _kendra_field(source: str) -> str:
    """``cm:title`` → ``cm_title``, unless the prefix itself has a ``_`` (then as stored)."""
    prefix, _, local = source.partition(":")
    return source if "_" in prefix else f"{prefix}_{local}"


def kendra_path(loc: Any) -> str:
    """A connector config error location (``site_ids.0`` or a tuple) in Kendra's names."""
    parts = loc.split(".") if isinstance(loc, str) else [str(p) for p in loc]
    names = [KENDRA_NAMES.get(part, part) for part in parts if part and part != "field_mappings"]
    return PATH + ".".join(names)
