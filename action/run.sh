#!/usr/bin/env bash
# The steps of the msk-reconciler action (action.yml): one GitOps command, as the project's
# own workflows run it. Inputs come as environment variables, never as expressions.
#
# The checkout (a pull request's, on `pull_request`) is data, never code: every command runs
# from $RUNNER_TEMP as the action's venv python in isolated mode (`python -I`), so no file of
# the checkout is ever on sys.path, and the checkout is named by its absolute path.
set -euo pipefail
reconciler() { "$VENV/bin/python" -I -m reconciler "$@"; }
checkout=$(cd "$GITHUB_WORKSPACE" && cd "$WORKING_DIRECTORY" && pwd -P)
ENV_DIR="$checkout/$SPECS_DIR/$ENVIRONMENT"
out="$RUNNER_TEMP/msk-reconciler-out"
cd "$RUNNER_TEMP"
rm -rf "$out" && mkdir "$out"
[ "$COMMAND" = drift ] || echo "plan-file=$out/plan.json" >> "$GITHUB_OUTPUT"  # drift: below

case "$COMMAND" in
  affected)
    git -C "$checkout" diff --name-only "$CHANGED_FROM" HEAD > "$out/changed.txt" \
      || echo "$SPECS_DIR" > "$out/changed.txt"
    reconciler github affected --changed-files "$out/changed.txt" --repo-root "$checkout" \
      --specs-dir "$checkout/$SPECS_DIR" --github-output environments
    ;;
  plan)
    trusted=()
    if [ -n "$TRUSTED_BASE" ]; then
      trusted=(--trusted-base "$(cd "$checkout" && cd "$TRUSTED_BASE" && pwd -P)")
    elif [ -n "$PULL_REQUEST" ] || [[ "${GITHUB_EVENT_NAME:-}" == pull_request* ]]; then
      # Without the base branch's specs, the pull request would decide where the plan
      # connects and which of the runner's variables it sends there.
      echo "::error::plan on a pull request needs trusted-base, the base branch's checkout:" \
        "check it out beside the pull request's (actions/checkout with" \
        "ref: github.event.pull_request.base.sha and path: base, the pull request's" \
        "with path: pr) and pass working-directory: pr, trusted-base: ../base." \
        "Nothing was planned or contacted."
      exit 1
    fi
    set +e
    reconciler plan "$ENV_DIR" "${trusted[@]}" --output text --no-color \
      --out "$out/plan.json" --detailed-exitcode 2> "$out/plan.err"
    code=$?
    set -e
    cat "$out/plan.err" >&2
    echo "exitcode=$code" >> "$GITHUB_OUTPUT"
    reconciler github plan-body "$ENV_DIR" --plan "$out/plan.json" \
      --error-file "$out/plan.err" --commit "$HEAD_SHA" >> "$GITHUB_STEP_SUMMARY"
    if [ -n "$PULL_REQUEST" ]; then
      reconciler github comment-plan "$ENV_DIR" --pr "$PULL_REQUEST" --plan "$out/plan.json" \
        --error-file "$out/plan.err" --commit "$HEAD_SHA"
    fi
    if [ "$code" = 1 ]; then
      echo "::error::the plan has errors; the comment and the job summary say which"
      exit 1
    fi
    ;;
  apply)
    number=$(reconciler github merged-pr --commit "$GITHUB_SHA" --branch "$BRANCH")
    outcome=failed
    record() {
      reconciler github record-apply "$ENV_DIR" --pr "$number" --outcome "$outcome" \
        --plan "$out/plan.json" --log "$out/plan.log" --log "$out/verify.log" \
        --log "$out/apply.log"
    }
    trap record EXIT
    reconciler plan "$ENV_DIR" --output text --no-color --out "$out/plan.json" 2>&1 \
      | tee "$out/plan.log"
    if ! reconciler github check-approved --plan "$out/plan.json" --pr "$number" 2>&1 \
        | tee "$out/verify.log"; then
      outcome=refused
      exit 1
    fi
    reconciler apply "$ENV_DIR" --plan "$out/plan.json" --auto-approve \
      --wait-timeout "$WAIT_TIMEOUT" --no-color 2>&1 | tee "$out/apply.log"
    outcome=applied
    ;;
  drift)
    # One environment, or several separated by spaces: all planned at once by one process
    # (one output each; exit 1 if any could not be planned, else 2 if any drifted, else 0),
    # then one drift issue per environment that was planned.
    read -r -a names <<< "$ENVIRONMENT"
    if [ "${#names[@]}" -eq 0 ]; then
      echo "::error::drift needs environment: one environment, or several separated by spaces"
      exit 1
    fi
    dirs=()
    for name in "${names[@]}"; do dirs+=("$checkout/$SPECS_DIR/$name"); done
    each="$out/plan.json"
    if [ "${#names[@]}" -gt 1 ]; then each="$out/{environment}/plan.json"; fi
    echo "plan-file=$each" >> "$GITHUB_OUTPUT"
    set +e
    reconciler plan "${dirs[@]}" --output text --no-color --out "$each" --detailed-exitcode
    code=$?
    set -e
    echo "exitcode=$code" >> "$GITHUB_OUTPUT"
    issues=0  # one environment's issue failing to update never skips another's
    for plan in "$out/plan.json" "$out"/*/plan.json; do
      if [ -f "$plan" ]; then reconciler github drift --plan "$plan" || issues=1; fi
    done
    if [ "$issues" = 1 ]; then
      echo "::error::a drift issue could not be opened, updated or closed; see above"
      exit 1
    fi
    case "$code" in
      0) echo "No drift." ;;
      2) echo "::error::a cluster differs from the specs; see the drift issues"; exit 1 ;;
      *) echo "::error::the drift check could not plan everything; see the plan above"; exit 1 ;;
    esac
    ;;
  *)
    echo "::error::command must be affected, plan, apply or drift, not '$COMMAND'"
    exit 1
    ;;
esac
