// Verifies one callback with the standardwebhooks library, as a receiver would.
// Input on stdin: {"secret": "whsec_...", "headers": {name: value}, "body": "<raw body>"}.
// Prints the verified payload's type and exits 0, or prints why and exits 1.
import { Webhook } from "standardwebhooks";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { secret, headers, body } = JSON.parse(input);
try {
  const payload = new Webhook(secret).verify(body, headers);
  console.log(payload.type);
} catch (error) {
  console.log(`refused: ${error.message}`);
  process.exit(1);
}
