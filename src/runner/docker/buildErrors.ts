/**
 * Why an environment image build failed, from its output: Docker itself only says "The command '/bin/sh -c
 * python -m pip install …' returned a non-zero code: 1", while the cause (pip could not reach the package
 * index, a requirement no index has, a misspelt line) is a few lines above it. Pure: the build's text in, one
 * sentence out.
 */

/** Build output kept for explaining a failure: the end of it, where the cause is. */
export class BuildOutputTail {
  private text = '';

  constructor(private readonly maxChars = 64 * 1024) {}

  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > 2 * this.maxChars) this.text = this.text.slice(-this.maxChars);
  }

  lines(): string[] {
    return this.text.slice(-this.maxChars).split('\n').map((l) => l.trim()).filter(Boolean);
  }
}

/** How a connection failed, in the words of the OS or the library (last one seen wins). */
const CONNECTION_FAILURE = [
  /Temporary failure in name resolution/,
  /Name or service not known/,
  /\[Errno 101\] Network is unreachable/,
  /\[Errno 111\] Connection refused/,
  /\[Errno 110\] Connection timed out/,
  /Read timed out/,
  /ProxyError\([^)]*\)/,
  /SSLError\([^)]*\)/,
];

function connectionFailure(lines: readonly string[]): string | undefined {
  let found: string | undefined;
  for (const line of lines) {
    for (const re of CONNECTION_FAILURE) {
      const m = re.exec(line);
      if (m) found = m[0].replace(/^\[Errno \d+\] /, '');
    }
  }
  return found;
}

/** pip's own ERROR lines, without the prefix; its "ERROR: " lines come before Docker's closing message. */
function pipErrors(lines: readonly string[]): string[] {
  return lines.filter((l) => l.startsWith('ERROR: ')).map((l) => l.slice('ERROR: '.length));
}

const HOW_TO_GET_PACKAGES =
  'Give the Docker host access to the index, point pip at one it can reach (--index-url in requirements.txt), ' +
  'or use an image that already has the packages ("image:" in a run configuration).';

/**
 * One sentence that says why the build failed, ending with Docker's own message; Docker's message alone when
 * the output shows nothing more specific.
 */
export function explainBuildFailure(dockerMessage: string, lines: readonly string[]): string {
  const docker = dockerMessage.trim();
  const pip = pipErrors(lines.filter((l) => !l.startsWith('ERROR: The command')));
  const offline = connectionFailure(lines);
  const index = lines.map((l) => /^Looking in indexes: (\S+)/.exec(l)?.[1]).find(Boolean);
  const wanted = pip.map((e) => /^(?:Could not find a version that satisfies the requirement|No matching distribution found for) (\S+)/.exec(e)?.[1]).find(Boolean);

  if (offline && (pip.length || /pip install/.test(docker))) {
    const what = wanted ? ` to install ${wanted}` : '';
    return `pip could not reach the package index${index ? ` ${index}` : ''} (${offline})${what}. ${HOW_TO_GET_PACKAGES} Docker: ${docker}`;
  }
  if (/on network bridge|bridge docker0/.test(docker)) {
    return `Docker could not attach the build's steps to its bridge network; restart Docker so that it recreates its bridge. Docker: ${docker}`;
  }
  const apt = lines.map((l) => /Temporary failure resolving '([^']+)'|Could not resolve '([^']+)'/.exec(l)).find(Boolean);
  if (apt) return `The build could not reach ${apt[1] ?? apt[2]} (no network or DNS in the build). Docker: ${docker}`;
  if (offline && /conda|mamba/.test(docker)) return `conda could not reach its channel (${offline}). Docker: ${docker}`;
  const conda = lines.find((l) => /CondaHTTPError|PackagesNotFoundError|ResolvePackageNotFound/.test(l));
  if (conda) return `conda: ${conda}. Docker: ${docker}`;
  if (pip.length) {
    if (wanted && pip.some((e) => /\(from versions: none\)/.test(e))) return `pip found no version of ${wanted} in the package index: check the name and version in requirements.txt. Docker: ${docker}`;
    return `pip: ${pip[0]}. Docker: ${docker}`;
  }
  return docker;
}
