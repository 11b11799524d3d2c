"""The Firestore database agents keep state in: backups, exports, TTL and indexes."""

from infra.firestore.database import FirestoreDatabase, FirestoreDatabaseArgs
from infra.firestore.exports import FirestoreExports, FirestoreExportsArgs

__all__ = [
    "FirestoreDatabase",
    "FirestoreDatabaseArgs",
    "FirestoreExports",
    "FirestoreExportsArgs",
]
