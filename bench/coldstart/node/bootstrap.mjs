// The Node.js comparison of `make bench-coldstart`: what a team would write instead. At
// init it loads the AWS SDK v3 and builds the DynamoDB document client, as a handler that
// reads the table would; then a minimal Lambda Runtime API loop (next -> handle -> response).
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const runtime = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime`;

async function handle(event) {
  const { Item } = await documents.send(
    new GetCommand({ TableName: process.env.TABLE_NAME, Key: { pk: event.pk, sk: event.sk } }),
  );
  return Item ?? null;
}

for (;;) {
  const next = await fetch(`${runtime}/invocation/next`);
  const id = next.headers.get("lambda-runtime-aws-request-id");
  try {
    const result = await handle(await next.json());
    await fetch(`${runtime}/invocation/${id}/response`, { method: "POST", body: JSON.stringify(result) });
  } catch (err) {
    await fetch(`${runtime}/invocation/${id}/error`, {
      method: "POST",
      body: JSON.stringify({ errorType: err.name, errorMessage: err.message }),
    });
  }
}
