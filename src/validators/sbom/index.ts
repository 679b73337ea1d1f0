/**
 * `sbom`: a CycloneDX JSON SBOM (1.4–1.6) judged for the release: it names the release's artifacts,
 * its components' licenses pass the allow or deny list, and no known vulnerability at or above
 * `failOn` stands without a VEX analysis that suppresses it. docs/validators.md has the rules.
 */
export { sbomValidator, type SbomArgs, type SbomProblem, type SbomRule, type SbomVulnerability } from './sbom-validator.js';
