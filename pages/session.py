"""What the pages keep in a visitor's session."""

SESSION_KEY = "bank_account"  # the logged-in customer: username, IBAN and token (the web session owns the account)
OUTCOME_KEY = "bank_outcome"  # the result of the last form, shown once after the redirect
PENDING_KEY = "bank_pending"  # a transfer the bank has not answered yet: its form shows what was typed
# The command id each form sends, kept from when the form is first shown until the bank answers it: a page
# reloaded after a crash, a second tab or a double click send the same command, never a second one.
FORM_IDS_KEY = "bank_form_ids"
