/** The REST API version every GitHub request asks for (GitHub: "specify the API version with X-GitHub-Api-Version"). */
export const GITHUB_API_VERSION = "2022-11-28";
