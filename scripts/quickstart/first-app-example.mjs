// The copy-paste walk-through the quickstart prints: node-hello built into a local image, then
// project → app → deploy → instances through the public API, as in README "Deploy your first app".
// Plain curl plus `node -pe` for JSON (Node is there: it runs npm start), so nothing else is needed.

/** @param {{ url: string, admin: { email: string, file: string, source: string }, root: string }} o */
export function firstAppExample(o) {
  const password = o.admin.source === 'environment' ? '"$KARVON_ADMIN_PASSWORD"' : `"$(node -pe 'require(process.argv[1]).password' ${o.admin.file})"`;
  return [
    '# Deploy a first app (paste into another shell; README "Deploy your first app" explains each step):',
    `cd ${o.root} && docker build -q -t node-hello:1 examples/node-hello`,
    `KARVON=${o.url}; EMAIL=${o.admin.email}; PASSWORD=${password}`,
    `j() { node -pe "JSON.parse(require('fs').readFileSync(0, 'utf8')).$1"; }`,
    `TOKEN=$(curl -s $KARVON/api/v1/auth/login -H 'content-type: application/json' \\`,
    `  -d "$(node -pe 'JSON.stringify({email: process.argv[1], password: process.argv[2]})' "$EMAIL" "$PASSWORD")" | j accessToken)`,
    `H=(-H "authorization: Bearer $TOKEN" -H 'content-type: application/json')`,
    '# apps start only on a funded wallet: credit your own (admin) account once (1,000,000 tiyin = 10,000 UZS)',
    `ME=$(curl -s $KARVON/api/v1/me "\${H[@]}" | j id)`,
    `curl -s $KARVON/api/v1/admin/users/$ME/wallet/credit "\${H[@]}" -d '{"amount":1000000,"idempotencyKey":"first-app"}' >/dev/null`,
    `PROJECT=$(curl -s $KARVON/api/v1/projects "\${H[@]}" -d '{"name":"demo"}' | j id)`,
    `APP=$(curl -s $KARVON/api/v1/apps "\${H[@]}" -d '{"projectId":"'$PROJECT'","name":"hello","region":"local","planId":"small","source":{"type":"image","image":"node-hello:1"}}' | j id)`,
    `DEPLOY=$(curl -s -XPOST $KARVON/api/v1/apps/$APP/deploys "\${H[@]}" -d '{}' | j id)`,
    `while curl -s $KARVON/api/v1/deploys/$DEPLOY "\${H[@]}" | j status | grep -Eq 'queued|building|releasing'; do sleep 1; done`,
    `curl -s $KARVON/api/v1/deploys/$DEPLOY "\${H[@]}" | j status`,
    `UPSTREAM=$(curl -s $KARVON/api/v1/apps/$APP/instances "\${H[@]}" | j 'items[0].upstream')`,
    'curl -s http://$UPSTREAM/; echo',
  ].join('\n');
}
