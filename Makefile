# The two commands a developer needs; everything else is in scripts/.
.PHONY: dev test package bench fmt

dev:      ## start the local stack on http://127.0.0.1:3000
	scripts/dev.sh

test:     ## fmt check, clippy, cfn-lint, unit and end-to-end tests (installs what it needs)
	scripts/test.sh

package:  ## release build of every function for arm64 Lambda, then sam validate + sam build
	scripts/package.sh

fmt:
	cargo fmt --all
