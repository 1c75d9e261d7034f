"""The sObjects the stand-in serves (Contact, Lead, Account) and their describe metadata.

Each field has a SOQL/describe ``type``; the stand-in stores scalar fields as SQLite columns (datetimes as
canonical UTC text, booleans as 0/1) and derives compound ``address`` fields from their components.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.salesforce.ids import PREFIXES

SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "string": "xsd:string",
    "email": "xsd:string",
    "phone": "xsd:string",
    "picklist": "xsd:string",
    "textarea": "xsd:string",
    "url": "xsd:string",
    "datetime": "xsd:dateTime",
    "date": "xsd:date",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "address": "urn:address",
}
TEXT_TYPES = frozenset({"id", "reference", "string", "email", "phone", "picklist", "textarea", "url"})

LEAD_SOURCES = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"]
LEAD_STATUSES = [
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
]
INDUSTRIES = ["Agriculture", "Banking", "Education", "Healthcare", "Retail", "Technology", "Other"]
COUNTRIES = {
    "AU": "Australia",
    "BR": "Brazil",
    "CA": "Canada",
    "CN": "China",
    "DE": "Germany",
    "ES": "Spain",
    "FR": "France",
    "GB": "United Kingdom",
    "HK": "Hong Kong",
    "ID": "Indonesia",
    "IE": "Ireland",
    "IN": "India",
    "IT": "Italy",
    "JP": "Japan",
    "KR": "Korea, Republic of",
    "MX": "Mexico",
    "MY": "Malaysia",
    "NL": "Netherlands",
    "NZ": "New Zealand",
    "PH": "Philippines",
    "PL": "Poland",
    "PT": "Portugal",
    "SE": "Sweden",
    "SG": "Singapore",
    "TH": "Thailand",
    "TW": "Taiwan",
    "US": "United States",
    "VN": "Vietnam",
    "ZA": "South Africa",
    "AE": "United Arab Emirates",
    "SA": "Saudi Arabia",
    "CH": "Switzerland",
}


@dataclass(frozen=True)
class Field:
    """One field of an sObject, with the describe attributes that vary between fields."""

    name: str
    label: str
    type: str
    length: int = 0
    updateable: bool = True
    createable: bool = True
    nillable: bool = True
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    picklist: tuple[tuple[str, str], ...] = ()
    restricted_picklist: bool = False
    compound_name: str | None = None
    components: tuple[tuple[str, str], ...] = ()  # compound: (json key, component field)
    defaulted_on_create: bool = False
    calculated: bool = False
    name_field: bool = False
    id_lookup: bool = False
    filterable: bool = True
    sortable: bool = True

    @property
    def stored(self) -> bool:
        """Whether the field is a SQLite column (compound fields are derived)."""
        return self.type != "address"

    @property
    def is_text(self) -> bool:
        return self.type in TEXT_TYPES

    def describe(self) -> dict[str, Any]:
        """This field as one entry of ``describe()["fields"]``."""
        text = self.is_text
        return {
            "aggregatable": self.type not in ("address", "textarea"),
            "aiPredictionField": False,
            "autoNumber": False,
            "byteLength": self.length * 3 if text else 0,
            "calculated": self.calculated,
            "calculatedFormula": None,
            "cascadeDelete": False,
            "caseSensitive": False,
            "compoundFieldName": self.compound_name,
            "controllerName": None,
            "createable": self.createable,
            "custom": False,
            "defaultValue": None,
            "defaultValueFormula": None,
            "defaultedOnCreate": self.defaulted_on_create,
            "dependentPicklist": False,
            "deprecatedAndHidden": False,
            "digits": 9 if self.type == "int" else 0,
            "displayLocationInDecimal": False,
            "encrypted": False,
            "externalId": False,
            "extraTypeInfo": {"address": None, "phone": None}.get(self.type),
            "filterable": self.filterable,
            "filteredLookupInfo": None,
            "groupable": self.type not in ("datetime", "address", "double", "currency", "textarea"),
            "highScaleNumber": False,
            "htmlFormatted": False,
            "idLookup": self.id_lookup,
            "inlineHelpText": None,
            "label": self.label,
            "length": self.length,
            "mask": None,
            "maskType": None,
            "name": self.name,
            "nameField": self.name_field,
            "namePointing": False,
            "nillable": self.nillable,
            "permissionable": self.nillable and self.updateable,
            "picklistValues": [
                {"active": True, "defaultValue": False, "label": label, "validFor": None, "value": value}
                for value, label in self.picklist
            ],
            "polymorphicForeignKey": self.name == "OwnerId",
            "precision": 18 if self.type in ("double", "currency") else 0,
            "queryByDistance": False,
            "referenceTargetField": None,
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "relationshipOrder": None,
            "restrictedDelete": False,
            "restrictedPicklist": self.restricted_picklist,
            "scale": 2 if self.type in ("double", "currency") else 0,
            "searchPrefilterable": self.type == "reference",
            "soapType": SOAP_TYPES[self.type],
            "sortable": self.sortable,
            "type": self.type,
            "unique": False,
            "updateable": self.updateable,
            "writeRequiresMasterRead": False,
        }


@dataclass(frozen=True)
class SObject:
    """An sObject type: name, key prefix, label and ordered fields."""

    name: str
    label: str
    label_plural: str
    fields: tuple[Field, ...]
    required: tuple[str, ...] = ()
    by_lower: dict[str, Field] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        self.by_lower.update({f.name.lower(): f for f in self.fields})

    @property
    def key_prefix(self) -> str:
        return PREFIXES[self.name]

    @property
    def table(self) -> str:
        return "sobj_" + self.name.lower()

    def get(self, name: str) -> Field | None:
        """Case-insensitive field lookup."""
        return self.by_lower.get(name.lower())

    @property
    def stored_fields(self) -> list[Field]:
        return [f for f in self.fields if f.stored]

    def urls(self, version: str) -> dict[str, str]:
        base = f"/services/data/v{version}/sobjects/{self.name}"
        return {
            "compactLayouts": base + "/describe/compactLayouts",
            "rowTemplate": base + "/{ID}",
            "approvalLayouts": base + "/describe/approvalLayouts",
            "defaultValues": base + "/defaultValues?recordTypeId&fields",
            "listviews": base + "/listviews",
            "describe": base + "/describe",
            "quickActions": base + "/quickActions",
            "layouts": base + "/describe/layouts",
            "sobject": base,
        }

    def global_entry(self, version: str) -> dict[str, Any]:
        """This object as one entry of the global ``/sobjects`` list."""
        return {
            "activateable": False,
            "createable": True,
            "custom": False,
            "customSetting": False,
            "deepCloneable": False,
            "deletable": True,
            "deprecatedAndHidden": False,
            "feedEnabled": True,
            "hasSubtypes": False,
            "isInterface": False,
            "isSubtype": False,
            "keyPrefix": self.key_prefix,
            "label": self.label,
            "labelPlural": self.label_plural,
            "layoutable": True,
            "mergeable": self.name in ("Account", "Contact", "Lead"),
            "mruEnabled": True,
            "name": self.name,
            "queryable": True,
            "replicateable": True,
            "retrieveable": True,
            "searchable": True,
            "triggerable": True,
            "undeletable": True,
            "updateable": True,
            "urls": self.urls(version),
        }

    def describe(self, version: str) -> dict[str, Any]:
        """The ``/sobjects/{name}/describe`` body."""
        body = self.global_entry(version)
        body.update(
            {
                "actionOverrides": [],
                "childRelationships": [],
                "compactLayoutable": True,
                "fields": [f.describe() for f in self.fields],
                "listviewable": None,
                "lookupLayoutable": None,
                "namedLayoutInfos": [],
                "networkScopeFieldName": None,
                "recordTypeInfos": [
                    {
                        "active": True,
                        "available": True,
                        "defaultRecordTypeMapping": True,
                        "developerName": "Master",
                        "master": True,
                        "name": "Master",
                        "recordTypeId": "012000000000000AAA",
                        "urls": {
                            "layout": f"/services/data/v{version}/sobjects/{self.name}/describe/layouts/012000000000000AAA"
                        },
                    }
                ],
                "searchLayoutable": True,
                "supportedScopes": [{"label": "All " + self.label_plural.lower(), "name": "everything"}],
            }
        )
        return body


def _audit_fields() -> list[Field]:
    return [
        Field(
            "OwnerId",
            "Owner ID",
            "reference",
            18,
            nillable=False,
            reference_to=("User",),
            relationship_name="Owner",
            defaulted_on_create=True,
        ),
        Field(
            "CreatedDate",
            "Created Date",
            "datetime",
            updateable=False,
            createable=False,
            nillable=False,
            defaulted_on_create=True,
        ),
        Field(
            "CreatedById",
            "Created By ID",
            "reference",
            18,
            updateable=False,
            createable=False,
            nillable=False,
            reference_to=("User",),
            relationship_name="CreatedBy",
            defaulted_on_create=True,
        ),
        Field(
            "LastModifiedDate",
            "Last Modified Date",
            "datetime",
            updateable=False,
            createable=False,
            nillable=False,
            defaulted_on_create=True,
        ),
        Field(
            "LastModifiedById",
            "Last Modified By ID",
            "reference",
            18,
            updateable=False,
            createable=False,
            nillable=False,
            reference_to=("User",),
            relationship_name="LastModifiedBy",
            defaulted_on_create=True,
        ),
        Field(
            "SystemModstamp",
            "System Modstamp",
            "datetime",
            updateable=False,
            createable=False,
            nillable=False,
            defaulted_on_create=True,
        ),
    ]


def _head(sobject: str) -> list[Field]:
    return [
        Field(
            "Id",
            f"{sobject} ID",
            "id",
            18,
            updateable=False,
            createable=False,
            nillable=False,
            defaulted_on_create=True,
            id_lookup=True,
        ),
        Field(
            "IsDeleted",
            "Deleted",
            "boolean",
            updateable=False,
            createable=False,
            nillable=False,
            defaulted_on_create=True,
        ),
        Field(
            "MasterRecordId",
            "Master Record ID",
            "reference",
            18,
            updateable=False,
            createable=False,
            reference_to=(sobject,),
            relationship_name="MasterRecord",
        ),
    ]


def _address(prefix: str, label: str) -> list[Field]:
    compound = f"{prefix}Address"
    countries = tuple(sorted(COUNTRIES.items(), key=lambda item: item[1]))
    return [
        Field(f"{prefix}Street", f"{label} Street", "textarea", 255, compound_name=compound),
        Field(f"{prefix}City", f"{label} City", "string", 40, compound_name=compound),
        Field(f"{prefix}State", f"{label} State/Province", "string", 80, compound_name=compound),
        Field(f"{prefix}PostalCode", f"{label} Zip/Postal Code", "string", 20, compound_name=compound),
        Field(f"{prefix}Country", f"{label} Country", "string", 80, compound_name=compound),
        Field(
            f"{prefix}CountryCode",
            f"{label} Country Code",
            "picklist",
            10,
            compound_name=compound,
            picklist=tuple((code, name) for code, name in countries),
            restricted_picklist=True,
        ),
        Field(
            compound,
            f"{label} Address",
            "address",
            updateable=False,
            createable=False,
            filterable=False,
            sortable=False,
            components=(
                ("city", f"{prefix}City"),
                ("country", f"{prefix}Country"),
                ("countryCode", f"{prefix}CountryCode"),
                ("geocodeAccuracy", ""),
                ("latitude", ""),
                ("longitude", ""),
                ("postalCode", f"{prefix}PostalCode"),
                ("state", f"{prefix}State"),
                ("stateCode", ""),
                ("street", f"{prefix}Street"),
            ),
        ),
    ]


def _picklist(values: list[str]) -> tuple[tuple[str, str], ...]:
    return tuple((value, value) for value in values)


CONTACT = SObject(
    "Contact",
    "Contact",
    "Contacts",
    (
        *_head("Contact"),
        Field(
            "AccountId", "Account ID", "reference", 18, reference_to=("Account",), relationship_name="Account"
        ),
        Field("LastName", "Last Name", "string", 80, nillable=False),
        Field("FirstName", "First Name", "string", 40),
        Field(
            "Name",
            "Full Name",
            "string",
            121,
            updateable=False,
            createable=False,
            nillable=False,
            calculated=False,
            name_field=True,
        ),
        *_address("Mailing", "Mailing"),
        Field("Phone", "Business Phone", "phone", 40),
        Field("MobilePhone", "Mobile Phone", "phone", 40),
        Field("Email", "Email", "email", 80, id_lookup=True),
        Field("Title", "Title", "string", 128),
        Field("Department", "Department", "string", 80),
        Field("LeadSource", "Lead Source", "picklist", 255, picklist=_picklist(LEAD_SOURCES)),
        Field("Birthdate", "Birthdate", "date"),
        *_audit_fields(),
    ),
    required=("LastName",),
)

LEAD = SObject(
    "Lead",
    "Lead",
    "Leads",
    (
        *_head("Lead"),
        Field("LastName", "Last Name", "string", 80, nillable=False),
        Field("FirstName", "First Name", "string", 40),
        Field(
            "Name",
            "Full Name",
            "string",
            121,
            updateable=False,
            createable=False,
            nillable=False,
            name_field=True,
        ),
        Field("Title", "Title", "string", 128),
        Field("Company", "Company", "string", 255, nillable=False),
        Field("Street", "Street", "textarea", 255, compound_name="Address"),
        Field("City", "City", "string", 40, compound_name="Address"),
        Field("State", "State/Province", "string", 80, compound_name="Address"),
        Field("PostalCode", "Zip/Postal Code", "string", 20, compound_name="Address"),
        Field("Country", "Country", "string", 80, compound_name="Address"),
        Field(
            "CountryCode",
            "Country Code",
            "picklist",
            10,
            compound_name="Address",
            picklist=tuple(sorted(COUNTRIES.items(), key=lambda item: item[1])),
            restricted_picklist=True,
        ),
        Field(
            "Address",
            "Address",
            "address",
            updateable=False,
            createable=False,
            filterable=False,
            sortable=False,
            components=(
                ("city", "City"),
                ("country", "Country"),
                ("countryCode", "CountryCode"),
                ("geocodeAccuracy", ""),
                ("latitude", ""),
                ("longitude", ""),
                ("postalCode", "PostalCode"),
                ("state", "State"),
                ("stateCode", ""),
                ("street", "Street"),
            ),
        ),
        Field("Phone", "Phone", "phone", 40),
        Field("MobilePhone", "Mobile Phone", "phone", 40),
        Field("Email", "Email", "email", 80, id_lookup=True),
        Field("LeadSource", "Lead Source", "picklist", 255, picklist=_picklist(LEAD_SOURCES)),
        Field(
            "Status",
            "Status",
            "picklist",
            255,
            nillable=False,
            picklist=_picklist(LEAD_STATUSES),
            defaulted_on_create=True,
        ),
        Field(
            "IsConverted",
            "Converted",
            "boolean",
            updateable=False,
            createable=False,
            nillable=False,
            defaulted_on_create=True,
        ),
        Field(
            "ConvertedContactId",
            "Converted Contact ID",
            "reference",
            18,
            updateable=False,
            createable=False,
            reference_to=("Contact",),
            relationship_name="ConvertedContact",
        ),
        *_audit_fields(),
    ),
    required=("LastName", "Company"),
)

ACCOUNT = SObject(
    "Account",
    "Account",
    "Accounts",
    (
        *_head("Account"),
        Field("Name", "Account Name", "string", 255, nillable=False, name_field=True),
        Field(
            "Type",
            "Account Type",
            "picklist",
            255,
            picklist=_picklist(["Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other"]),
        ),
        *_address("Billing", "Billing"),
        Field("Phone", "Account Phone", "phone", 40),
        Field("Website", "Website", "url", 255),
        Field("Industry", "Industry", "picklist", 255, picklist=_picklist(INDUSTRIES)),
        Field("NumberOfEmployees", "Employees", "int"),
        Field("AnnualRevenue", "Annual Revenue", "currency"),
        *_audit_fields(),
    ),
    required=("Name",),
)

SOBJECTS: dict[str, SObject] = {obj.name.lower(): obj for obj in (ACCOUNT, CONTACT, LEAD)}


def lookup(name: str) -> SObject | None:
    """Case-insensitive sObject lookup."""
    return SOBJECTS.get(name.lower())
