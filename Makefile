# The two commands a developer needs; everything else is in scripts/.
.PHONY: dev test package bench bench-extraction bench-pipeline bench-verification bench-realtime bench-email bench-privacy bench-coldstart redrive contract-fuzz fmt

dev:      ## start the local stack on http://127.0.0.1:3000
	scripts/dev.sh

test:     ## fmt check, clippy, cfn-lint, unit and end-to-end tests (installs what it needs)
	scripts/test.sh

package:  ## release build of every function for arm64 Lambda, then sam validate + sam build
	scripts/package.sh

bench:    ## API latency/throughput through the local stack vs bare DynamoDB (perf profile)
	scripts/bench.sh

bench-extraction:    ## Extraction precision/recall per kind and quality tier over a generated corpus
	scripts/bench-extraction.sh

bench-pipeline:    ## Upload → extracted latency (text PDF, photo) and documents/minute through the local stack
	scripts/bench-pipeline.sh

bench-verification:    ## Upload → requirement verified (insurance, license), bank link, verified → approved, through the local stack
	scripts/bench-verification.sh

bench-realtime:    ## Event → WebSocket message latency, and fan-out to 1/10/100 connections, through the local stack
	scripts/bench-realtime.sh

bench-email:    ## Emails/s through the local stack: registrations → welcomes, the consumer alone, SES failover
	scripts/bench-email.sh

bench-privacy:    ## Export and erasure time through the local stack for 3, 30 and 100 documents
	scripts/bench-privacy.sh

contract-fuzz:    ## Schemathesis against the served OpenAPI document through a fresh local stack: make contract-fuzz [FUZZ_SECONDS=300] [SEED=n]
	scripts/bootstrap.sh && . scripts/env.sh && cargo build -q -p local-runner --bin onboarding-local && \
	  "$$FUZZ_VENV/bin/python" tests/contract/run.py "$$CARGO_TARGET_DIR/debug/onboarding-local" \
	  --max-time $(or $(FUZZ_SECONDS),300) $(if $(SEED),--seed $(SEED),)

bench-coldstart:    ## Every function's init, memory and zip size (deploy profile) beside a bare lambda_runtime hello and a Node.js 20 SDK v3 handler
	scripts/bench-coldstart.sh

redrive:    ## Move a dead-letter queue's messages back to its queue on the running local stack: make redrive QUEUE=NotificationsDLQ
	@test -n "$(QUEUE)" || { echo "usage: make redrive QUEUE=<dead-letter queue logical id>"; exit 2; }
	curl -sS -X POST "http://127.0.0.1:$${PORT:-3000}/_local/queues/$(QUEUE)/redrive"; echo

fmt:
	cargo fmt --all

# sam build (BuildMethod: makefile) calls build-<LogicalId> with ARTIFACTS_DIR set. The first
# target builds every function in one cargo invocation; the others find it done and copy.
# A test checks there is one target per function in template.yaml.
build-ContractorsRegisterFunction:
	scripts/lambda-artifact.sh contractors-register "$(ARTIFACTS_DIR)"

build-ContractorsGetFunction:
	scripts/lambda-artifact.sh contractors-get "$(ARTIFACTS_DIR)"

build-ContractorsSaveStepFunction:
	scripts/lambda-artifact.sh contractors-save-step "$(ARTIFACTS_DIR)"

build-ContractorsSubmitFunction:
	scripts/lambda-artifact.sh contractors-submit "$(ARTIFACTS_DIR)"

build-ContractorsAuditFunction:
	scripts/lambda-artifact.sh contractors-audit "$(ARTIFACTS_DIR)"

build-ContractorsListFunction:
	scripts/lambda-artifact.sh contractors-list "$(ARTIFACTS_DIR)"

build-ApiDocsFunction:
	scripts/lambda-artifact.sh api-docs "$(ARTIFACTS_DIR)"

build-ApiFallbackFunction:
	scripts/lambda-artifact.sh api-fallback "$(ARTIFACTS_DIR)"

build-EventsRelayFunction:
	scripts/lambda-artifact.sh events-relay "$(ARTIFACTS_DIR)"

build-DocumentsUploadIntentFunction:
	scripts/lambda-artifact.sh documents-upload-intent "$(ARTIFACTS_DIR)"

build-DocumentsListFunction:
	scripts/lambda-artifact.sh documents-list "$(ARTIFACTS_DIR)"

build-DocumentsGetFunction:
	scripts/lambda-artifact.sh documents-get "$(ARTIFACTS_DIR)"

build-DocumentsSweeperFunction:
	scripts/lambda-artifact.sh documents-sweeper "$(ARTIFACTS_DIR)"

build-WebhooksReceiveFunction:
	scripts/lambda-artifact.sh webhooks-receive "$(ARTIFACTS_DIR)"

build-VerificationInsuranceFunction:
	scripts/lambda-artifact.sh verification-insurance "$(ARTIFACTS_DIR)"

build-WebhooksProcessFunction:
	scripts/lambda-artifact.sh webhooks-process "$(ARTIFACTS_DIR)"

build-ReviewsListFunction:
	scripts/lambda-artifact.sh reviews-list "$(ARTIFACTS_DIR)"

build-ReviewsDecideFunction:
	scripts/lambda-artifact.sh reviews-decide "$(ARTIFACTS_DIR)"

build-ContractorsRejectFunction:
	scripts/lambda-artifact.sh contractors-reject "$(ARTIFACTS_DIR)"

build-ReviewsClaimFunction:
	scripts/lambda-artifact.sh reviews-claim "$(ARTIFACTS_DIR)"

build-VerificationLicenseFunction:
	scripts/lambda-artifact.sh verification-license "$(ARTIFACTS_DIR)"

build-VerificationStandingFunction:
	scripts/lambda-artifact.sh verification-standing "$(ARTIFACTS_DIR)"

build-VerificationRecheckFunction:
	scripts/lambda-artifact.sh verification-recheck "$(ARTIFACTS_DIR)"

build-BankLinkTokenFunction:
	scripts/lambda-artifact.sh bank-link-token "$(ARTIFACTS_DIR)"

build-BankExchangeFunction:
	scripts/lambda-artifact.sh bank-exchange "$(ARTIFACTS_DIR)"

build-RealtimeTicketsFunction:
	scripts/lambda-artifact.sh realtime-tickets "$(ARTIFACTS_DIR)"

build-RealtimeAuthorizeFunction:
	scripts/lambda-artifact.sh realtime-authorize "$(ARTIFACTS_DIR)"

build-RealtimeConnectFunction:
	scripts/lambda-artifact.sh realtime-connect "$(ARTIFACTS_DIR)"

build-RealtimeDisconnectFunction:
	scripts/lambda-artifact.sh realtime-disconnect "$(ARTIFACTS_DIR)"

build-RealtimeDefaultFunction:
	scripts/lambda-artifact.sh realtime-default "$(ARTIFACTS_DIR)"

build-RealtimePushFunction:
	scripts/lambda-artifact.sh realtime-push "$(ARTIFACTS_DIR)"

build-EngagementBadgesFunction:
	scripts/lambda-artifact.sh engagement-badges "$(ARTIFACTS_DIR)"

build-EngagementActivityFunction:
	scripts/lambda-artifact.sh engagement-activity "$(ARTIFACTS_DIR)"

build-EngagementAchievementsFunction:
	scripts/lambda-artifact.sh engagement-achievements "$(ARTIFACTS_DIR)"

build-NotificationsSendFunction:
	scripts/lambda-artifact.sh notifications-send "$(ARTIFACTS_DIR)"

build-NotificationsRemindersFunction:
	scripts/lambda-artifact.sh notifications-reminders "$(ARTIFACTS_DIR)"

build-PrivacyRetentionFunction:
	scripts/lambda-artifact.sh privacy-retention "$(ARTIFACTS_DIR)"

build-PrivacyConsentWithdrawalFunction:
	scripts/lambda-artifact.sh privacy-consent-withdrawal "$(ARTIFACTS_DIR)"

build-PrivacyErasureRequestFunction:
	scripts/lambda-artifact.sh privacy-erasure-request "$(ARTIFACTS_DIR)"

build-PrivacyErasureStatusFunction:
	scripts/lambda-artifact.sh privacy-erasure-status "$(ARTIFACTS_DIR)"

build-PrivacyErasureFunction:
	scripts/lambda-artifact.sh privacy-erasure "$(ARTIFACTS_DIR)"

build-PrivacyExportRequestFunction:
	scripts/lambda-artifact.sh privacy-export-request "$(ARTIFACTS_DIR)"

build-PrivacyExportStatusFunction:
	scripts/lambda-artifact.sh privacy-export-status "$(ARTIFACTS_DIR)"

build-PrivacyExportFunction:
	scripts/lambda-artifact.sh privacy-export "$(ARTIFACTS_DIR)"

build-NotificationsPreferencesFunction:
	scripts/lambda-artifact.sh notifications-preferences "$(ARTIFACTS_DIR)"

build-NotificationsFeedbackFunction:
	scripts/lambda-artifact.sh notifications-feedback "$(ARTIFACTS_DIR)"
