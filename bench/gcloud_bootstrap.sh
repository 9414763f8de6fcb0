#!/usr/bin/env bash
# The way people set up a project for Gemini today: the gcloud commands from the Gemini API and Vertex AI
# docs, one after another. The benchmark runs it against the emulator (through a throwaway
# CLOUDSDK_CONFIG) side by side with `gcp-setup apply --create`.
#
# The benchmark passes what to create from gcp_setup/defaults.py, so both sides aim at the same end state:
#   PROJECT  BILLING_ACCOUNT (ID, e.g. 000000-AAAAAA-000001)  SERVICES (space-separated)
#   SA_ID  SA_DISPLAY_NAME  ROLES (space-separated)  KEY_ID  KEY_DISPLAY_NAME  KEY_TARGETS  LOCATION  ENV_FILE
set -euo pipefail

gcloud projects create "$PROJECT"
gcloud billing projects link "$PROJECT" --billing-account="$BILLING_ACCOUNT"
# shellcheck disable=SC2086  # one argument per service
gcloud services enable $SERVICES --project="$PROJECT"

gcloud iam service-accounts create "$SA_ID" --display-name="$SA_DISPLAY_NAME" --project="$PROJECT"
for role in $ROLES; do
  gcloud projects add-iam-policy-binding "$PROJECT" --role="$role" --condition=None \
    --member="serviceAccount:$SA_ID@$PROJECT.iam.gserviceaccount.com" --format=none
done

targets=()
for service in $KEY_TARGETS; do targets+=("--api-target=service=$service"); done
# An auth key: bound to the service account (the Gemini API rejects standard keys since September 2026).
gcloud services api-keys create --key-id="$KEY_ID" --display-name="$KEY_DISPLAY_NAME" "${targets[@]}" \
  --service-account="$SA_ID@$PROJECT.iam.gserviceaccount.com" --project="$PROJECT" --format=none
key_string=$(gcloud services api-keys get-key-string "$KEY_ID" --location=global --project="$PROJECT" \
  --format='value(keyString)')

umask 077
cat >"$ENV_FILE" <<ENV
GOOGLE_CLOUD_PROJECT=$PROJECT
GOOGLE_CLOUD_LOCATION=$LOCATION
GOOGLE_GENAI_USE_VERTEXAI=true
GEMINI_API_KEY=$key_string
ENV
