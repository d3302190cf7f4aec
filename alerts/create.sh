#!/usr/bin/env bash
# Creates (or updates) the SLS alerts of this directory through the aliyun CLI:
# an instance Failed, instances Unfinished after FC's retries, an operator
# mistake, and the watchdog (no summary line from a timer in 26 hours). Each
# *.json is the request body of SLS CreateAlert, with @PROJECT@, @LOGSTORE@,
# @REGION@ and @ACTION_POLICY@ filled in from the environment:
#
#   PROJECT=my-sls-project LOGSTORE=start-ecs REGION=cn-hangzhou \
#   ACTION_POLICY=my-on-call-policy alerts/create.sh
#
# PROJECT and LOGSTORE are the logConfig of s.yaml; ACTION_POLICY is an SLS
# action policy that reaches the on-call group.
set -euo pipefail
: "${PROJECT:?set PROJECT to the SLS project of the function's logConfig}"
: "${LOGSTORE:?set LOGSTORE to the logstore of the function's logConfig}"
: "${REGION:?set REGION to the region of the SLS project}"
: "${ACTION_POLICY:?set ACTION_POLICY to the SLS action policy of the on-call group}"
dir=$(cd "$(dirname "$0")" && pwd)
for f in "$dir"/*.json; do
  body=$(sed -e "s|@PROJECT@|$PROJECT|g" -e "s|@LOGSTORE@|$LOGSTORE|g" \
             -e "s|@REGION@|$REGION|g" -e "s|@ACTION_POLICY@|$ACTION_POLICY|g" "$f")
  name=$(basename "$f" .json)
  if aliyun sls CreateAlert --region "$REGION" --project "$PROJECT" --body "$body" >/dev/null; then
    echo "created start-ecs-$name"
  else
    # Already there: bring it up to date instead.
    aliyun sls UpdateAlert --region "$REGION" --project "$PROJECT" --alertName "start-ecs-$name" --body "$body" >/dev/null
    echo "updated start-ecs-$name"
  fi
done
