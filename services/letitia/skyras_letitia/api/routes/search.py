"""`POST /api/search`: full-text and fuzzy search over the library."""

from fastapi import APIRouter

from skyras_letitia.api.deps import SearchDep
from skyras_letitia.models import SearchRequest, SearchResults

router = APIRouter(prefix="/api/search", tags=["search"])


@router.post("", response_model=SearchResults)
async def search_files(request: SearchRequest, search: SearchDep) -> SearchResults:
    """Best matches first, with HTML-safe highlights; an empty query lists recent files."""
    return await search.search(request)
