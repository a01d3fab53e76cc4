"""Learn mode's data routes: the exercise's classic mistakes, their runs on probe cases, and
the diagnosis of a learner's uploaded output. The work is app/learn/service.py's (core
decides everything); these routes only validate and answer. The server never runs learner
code: a learner uploads an array (.npy) their own code computed on a probe case.

    GET  /api/learn/mistakes                              every mistake, every variant
    GET  /api/learn/{function}/cases                      the probe cases: inputs, right outputs
    GET  /api/learn/{function}/mistakes/{mistake}?case=&flavour=
                                                          right vs buggy, differing cells, the
                                                          first differing step
    POST /api/learn/{function}/diagnose?case=&output=     multipart `file`: an .npy output

and the page itself, GET /learn (app/site.py serves it at a bare / too), its lesson built by
app/learn/lesson.py.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from app.learn import service as service
from app.learn.lesson import LearnQuery, LessonError, learn_boot, settings_hints
from app.learn.schemas import (
    CASE_OF,
    FLAVOUR_OF,
    MISTAKE_IN_FUNCTION,
    OUTPUT_OF,
    CasesOut,
    DiagnosisOut,
    FunctionName,
    MistakeId,
    MistakeListOut,
    MistakeRunOut,
)
from app.platform.errors import error_page, wants_html
from app.platform.multipart import read_upload
from app.platform.nav import nav
from app.platform.schemas.common import ErrorOut, rules
from core.probes import FUNCTIONS, OUTPUTS, cases_of

router = APIRouter(prefix="/api/learn", tags=["learn: mistakes and the learner's output"],
                   responses={422: {"description": "A field is invalid (FastAPI's list), or "
                                                   "{detail, code} naming what is expected."}})
page_router = APIRouter()

FunctionPath = Annotated[FunctionName, Path(description="A seed function, e.g. conv_forward.")]
CaseQuery = Annotated[str | None, Query(
    max_length=64, pattern=r"^[a-z0-9_]+$", json_schema_extra=rules(CASE_OF),
    description="A probe case name (GET /api/learn/mistakes lists them per function). "
                "Default: the first case that shows the mistake. " + CASE_OF.says)]

# Every probe case's and output's name (which of them a function has depends on the path's
# function, a rule the schema cannot say: the description names the route that lists them).
CASE_NAMES = sorted({c.name for f in FUNCTIONS for c in cases_of(f)})
OUTPUT_NAMES = sorted({o for names in OUTPUTS.values() for o in names})

NPY_BODY = {
    "required": True,
    "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"], "additionalProperties": False,
        "properties": {"file": {
            "type": "string", "format": "binary", "maxLength": service.NPY_MAX_BYTES,
            "description": "The output your code computed on the probe case, saved with "
                           f"np.save (.npy, numbers, at most {service.NPY_MAX_BYTES} bytes)."}}}}},
}


@router.get("/mistakes", summary="Every classic mistake: lines, functions, variants, cases")
def mistakes() -> MistakeListOut:
    """The ten mistakes (ids stride_missing, bias_per_element, height_width_swapped,
    pad_all_axes, unpadded_slice, assign_not_accumulate, distribute_without_dz,
    crop_minus_pad, mask_not_max, dW_without_slice), each with its title, what goes wrong,
    the buggy line against the right one, the functions it changes and one variant per
    (function, flavour) with the probe cases that show it; plus each function's outputs
    and probe case names."""
    return MistakeListOut(**service.mistake_list())


@router.get("/{function}/cases", summary="A function's probe cases: inputs and right outputs")
def cases(function: FunctionPath) -> CasesOut:
    """Every probe case of `function`: its inputs by the exercise's argument names, the
    right outputs, the loop shape (step k = np.unravel_index(k, loop_shape)) and which
    mistakes change it."""
    return CasesOut(**service.cases(function))


@router.get("/{function}/mistakes/{mistake}",
            summary="A mistake on a probe case beside the right code, and where they part")
def mistake_run(function: FunctionPath,
                mistake: Annotated[MistakeId, Path(description=MISTAKE_IN_FUNCTION.says,
                                                   json_schema_extra=rules(MISTAKE_IN_FUNCTION))],
                case: CaseQuery = None,
                flavour: Annotated[str | None, Query(
                    max_length=64, pattern=r"^[A-Za-z_/]+$",
                    json_schema_extra=rules(FLAVOUR_OF),
                    description="One of the mistake's flavours in this function (e.g. "
                                "assign_not_accumulate/dW); default its first.")] = None,
                ) -> MistakeRunOut:
    """`right` and `buggy` outcomes (outputs as {shape, values}, or the error the buggy code
    raises), `differs` (true where they differ, per output), and `first_difference`: the
    right and the buggy loops run side by side, the first step (loop order i, h, w, c)
    after which their running accumulators differ, with both values. A mistake that does
    not change `function` is a 422 `mistake_not_in_function` naming the functions it
    changes; an unknown case is a 422 `unknown_case` listing the cases."""
    return MistakeRunOut(**service.mistake_run(function, mistake, case, flavour))


@router.post("/{function}/diagnose", openapi_extra={"requestBody": NPY_BODY},
             summary="Diagnose your output for a probe case (.npy upload), as the checker does",
             responses={413: {"model": ErrorOut, "description": "The upload is too large."},
                        415: {"model": ErrorOut, "description": "Not multipart/form-data."}})
async def diagnose(request: Request, function: FunctionPath,
                   case: Annotated[str, Query(
                       max_length=64, pattern=r"^[a-z0-9_]+$",
                       json_schema_extra={"enum": CASE_NAMES, **rules(CASE_OF)},
                       description="The probe case your code ran on: one of the function's "
                                   "cases (GET /api/learn/{function}/cases lists them).")],
                   output: Annotated[str | None, Query(
                       max_length=16, pattern=r"^[A-Za-z_]+$",
                       json_schema_extra={"enum": OUTPUT_NAMES, **rules(OUTPUT_OF)},
                       description="Which output the file holds, one of the function's "
                                   "(conv_backward: dA_prev, dW or db); default its first.")
                   ] = None,
                   ) -> DiagnosisOut:
    """multipart/form-data with one `file`: the array your code returned on the probe case,
    saved with np.save. Read with np.load(allow_pickle=False) after its header is checked;
    the server never runs your code. Answers whether it is right, which mistakes give
    exactly it, the differing cells and the first difference (read from the output: for a
    matched mistake its loops' first differing step), and the page link. Refusals: 413
    `file_too_large`; 415 not multipart; 422 `not_npy`, `wrong_dtype`, `not_finite`,
    `wrong_shape` (naming the expected shape), `unknown_case`, `unknown_output`,
    `bad_multipart`, `no_file`."""
    parts = await read_upload(request, service.NPY_LIMIT, {"file": True})
    answer = await run_in_threadpool(service.diagnose_upload, function, case, output,
                                     bytes(parts["file"].data))
    return DiagnosisOut(**answer)


# ---------------------------------------------------------------- the page


def learn_page(request: Request, query: LearnQuery) -> Response:
    """The Learn page for `query` (a case or flavour that does not exist: FastAPI's 422 shape)."""
    try:
        boot = learn_boot(query)
    except LessonError as exc:
        if wants_html(request):
            return error_page(request, 422, "A value in the address is not one the page knows:",
                              [f"{exc.field}: {exc}"])
        return JSONResponse({"detail": [{"loc": ["query", exc.field], "msg": str(exc),
                                         "type": "value_error"}]}, status_code=422)
    return request.app.state.templates.TemplateResponse(
        request, "learn.html", {"boot": boot, "nav": nav(request, "learn"),
                                  "hints": settings_hints()})


@page_router.get("/learn", response_class=HTMLResponse, include_in_schema=False)
async def learn(request: Request, query: Annotated[LearnQuery, Query()]) -> Response:
    """Learn mode: the exercise's eight functions walked step by step (app/learn/lesson.py)."""
    return learn_page(request, query)
