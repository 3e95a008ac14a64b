// The host-side bundles, shared by esbuild.mjs and the activation benchmark so the benchmark times what ships.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * Docker's client stack (dockerode → docker-modem → ssh2, asn1, @grpc/grpc-js, protobufjs) is most of the host
 * code by size. It gets its own bundle, dist/docker.js, which the extension and the CLI require from beside
 * themselves the first time they talk to Docker (src/runner/docker/client.ts), so loading the extension does not
 * read or compile it.
 */
const dockerInItsOwnBundle = {
  name: 'docker-in-its-own-bundle',
  setup(build) {
    build.onResolve({ filter: /^dockerode$/ }, () => ({ path: './docker.js', external: true }));
  },
};

/**
 * The language client (vscode-languageclient) goes in dist/languageClient.js, required by the extension the
 * first time a run configuration opens, for the same reason: activation never reads it.
 */
const languageClientInItsOwnBundle = {
  name: 'language-client-in-its-own-bundle',
  setup(build) {
    build.onResolve({ filter: /^vscode-languageclient\/node$/ }, () => ({ path: './languageClient.js', external: true }));
  },
};

/** dist/extension.js, dist/cli.js, dist/docker.js, dist/languageServer.js (the run configuration server) and dist/languageClient.js. */
export function hostBundle({ production }) {
  return {
    bundle: true,
    minify: production,
    sourcemap: !production,
    sourcesContent: false,
    logLevel: 'warning',
    entryPoints: {
      extension: 'src/extension.ts',
      cli: 'src/cli/main.ts',
      docker: require.resolve('dockerode'),
      languageServer: 'src/lsp/server.ts',
      languageClient: require.resolve('vscode-languageclient/node'),
    },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // ssh2's optional native parts are loaded with try/require; keep them out of the bundle.
    external: ['vscode', 'cpu-features', './crypto/build/Release/sshcrypto.node'],
    plugins: [dockerInItsOwnBundle, languageClientInItsOwnBundle],
  };
}
