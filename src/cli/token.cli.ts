import { loadConfig } from '../config/app-config.js';
import { isRole, type Role } from '../security/role.js';
import { resolveJwtSecret } from '../security/security-secrets.js';
import { TokenService } from '../security/token.service.js';
import { fail, INSIGHT_TTL_SECONDS, insightLink, parseCli, runCli } from './cli-support.js';

const USAGE = `Usage: npm run token -- --role <module|automation|admin|auditor> [--role ...] [--sub <module>] [--ttl <seconds>]
       npm run insight [-- --role auditor] [--ttl <seconds>]

Prints an HS256 bearer token signed with JWT_SECRET (in development, the generated
KEYS_DIR/jwt-secret). --sub binds a module token to one module. --ttl defaults to 3600.
--insight (what \`npm run insight\` passes) prints a link that opens the InsightFlow dashboard of
the bridge on PORT with a short-lived token (admin unless --role says otherwise, --ttl 900) in the
URL fragment, which the browser never sends to the server.`;

runCli(() => {
  const flags = parseCli(
    {
      role: { type: 'string', multiple: true },
      sub: { type: 'string' },
      ttl: { type: 'string' },
      insight: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    USAGE,
  );
  if (flags.help) return void console.log(USAGE);
  const roles = flags.role ?? (flags.insight ? ['admin'] : []);
  if (roles.length === 0 || !roles.every(isRole))
    fail(`--role must be module, automation, admin or auditor\n\n${USAGE}`);
  const ttl = Number(flags.ttl ?? (flags.insight ? INSIGHT_TTL_SECONDS : 3600));
  if (!Number.isInteger(ttl) || ttl < 1)
    fail(`--ttl must be a positive number of seconds\n\n${USAGE}`);

  const config = loadConfig();
  if (ttl > config.jwtMaxLifetimeSeconds)
    fail(`--ttl must not exceed JWT_MAX_LIFETIME_SECONDS (${config.jwtMaxLifetimeSeconds})`);
  // The service's own minting: issuer, and audience when JWT_AUDIENCE is set.
  const token = new TokenService(resolveJwtSecret(config), config).mint({
    roles: roles as Role[],
    subject: flags.sub,
    ttlSeconds: ttl,
  });
  console.log(flags.insight ? insightLink(`http://localhost:${config.port}`, token) : token);
});
