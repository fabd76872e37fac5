// Import rules of src/ (docs/architecture.md): no circular imports, and each folder imports only
// folders of its own layer or below. Rules name folders, never files, so a new file is covered by
// its folder's rule. `npm run lint:layers` (part of `npm test`) checks them.
// Layers, bottom up:
//   base      contract/, errors.ts, abortable.ts
//   config    config/
//   infra     state/, observability/, storage/, auth/, ratelimit/
//   domain    policy/, transform/, crypto/, uploads/, offload/, ops/
//   features  sharing/, client/
//   adapters  http/, worker/, nginx/ (apart from each other: they meet in contract/)
//   entry     server.ts, cluster/, cli/
const BASE = '^src/(contract/|errors\\.ts$|abortable\\.ts$)';
// The image-option vocabulary (option table, presets, the plan type, pipeline types): pure data the
// config validates transform settings with. It may import the base only, so config may import it.
const TRANSFORM_VOCABULARY = '^src/transform/(options/|plan\\.ts$|presets\\.ts$|pipeline/types\\.ts$)';
const INFRA = 'state|observability|storage|auth|ratelimit';
const DOMAIN = 'policy|transform|crypto|uploads|offload|ops';
const FEATURES = 'sharing|client';
const ADAPTERS = 'http|worker|nginx';
const ENTRY = '^src/(server\\.ts$|cluster/|cli/)';

/** A rule: nothing in `from` may import anything in `to`. */
const forbid = (name, comment, from, to) => ({ name, comment, severity: 'error', from, to });

module.exports = {
  forbidden: [
    forbid('no-circular', 'Modules must not import each other in a circle.', {}, { circular: true }),
    forbid('no-test-code-in-src', 'src/ must not import test/ or bench/.', { path: '^src/' }, { path: '^(test|bench)/' }),
    forbid('base-imports-base-only', 'contract/, errors.ts and abortable.ts are the bottom: constants, types and pure functions.', { path: BASE }, { path: '^src/', pathNot: BASE }),
    forbid('config-imports-base-only', 'config/ (schemas, loading) sits on the base and the transform vocabulary only.', { path: '^src/config/' }, { path: '^src/', pathNot: [BASE, '^src/config/', TRANSFORM_VOCABULARY] }),
    forbid('transform-vocabulary-is-pure', 'The option table, presets and plan types import the base only (config validates with them).', { path: TRANSFORM_VOCABULARY }, { path: '^src/', pathNot: [BASE, TRANSFORM_VOCABULARY] }),
    forbid('infra-below-domain', `${INFRA} must not import the folders built on them.`, { path: `^src/(${INFRA})/` }, { path: `^src/(${DOMAIN}|${FEATURES}|${ADAPTERS})/|${ENTRY}` }),
    forbid('domain-below-features', `${DOMAIN} must not import features, adapters or entry points.`, { path: `^src/(${DOMAIN})/` }, { path: `^src/(${FEATURES}|${ADAPTERS})/|${ENTRY}` }),
    forbid('features-below-adapters', `${FEATURES} must not import adapters or entry points.`, { path: `^src/(${FEATURES})/` }, { path: `^src/(${ADAPTERS})/|${ENTRY}` }),
    forbid('adapters-below-entry', 'http/, worker/ and nginx/ must not import server.ts, cluster/ or cli/.', { path: `^src/(${ADAPTERS})/` }, { path: ENTRY }),
    forbid('app-not-renderer', 'The app (http/, worker/) and the renderer (nginx/) share names through contract/ only.', { path: '^src/(http|worker)/' }, { path: '^src/nginx/' }),
    forbid('renderer-not-app', 'nginx/ renders from config and contract/; it never imports the app, its stores or the worker.', { path: '^src/nginx/' }, { path: '^src/(http|worker|storage|crypto|offload)/' }),
    forbid('cluster-below-cli', 'cluster/ runs processes for cli/; cli/ imports cluster/, never the reverse.', { path: '^src/(cluster/|server\\.ts$)' }, { path: '^src/cli/' }),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsConfig: { fileName: 'tsconfig.test.json' },
    // Type-only imports count: a folder that needs another's types depends on it.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
    cache: false,
  },
};
