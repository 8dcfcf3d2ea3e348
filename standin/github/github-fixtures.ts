import type { components } from "@octokit/openapi-types";

/**
 * GitHub's own examples from its OpenAPI description (api.github.com, via standin/github/openapi/),
 * typed against @octokit/openapi-types. The stand-in copies them and overrides what it serves.
 */
type Schemas = components["schemas"];

/** The one commit GitHub's examples use: base, merge base and only commit of the comparison, and GET commit. */
const exampleCommit: Omit<Schemas["commit"], "stats" | "files"> = {
  url: "https://api.github.com/repos/octocat/Hello-World/commits/6dcb09b5b57875f334f61aebed695e2e4193db5e",
  sha: "6dcb09b5b57875f334f61aebed695e2e4193db5e",
  node_id: "MDY6Q29tbWl0NmRjYjA5YjViNTc4NzVmMzM0ZjYxYWViZWQ2OTVlMmU0MTkzZGI1ZQ==",
  html_url: "https://github.com/octocat/Hello-World/commit/6dcb09b5b57875f334f61aebed695e2e4193db5e",
  comments_url:
    "https://api.github.com/repos/octocat/Hello-World/commits/6dcb09b5b57875f334f61aebed695e2e4193db5e/comments",
  commit: {
    url: "https://api.github.com/repos/octocat/Hello-World/git/commits/6dcb09b5b57875f334f61aebed695e2e4193db5e",
    author: {
      name: "Monalisa Octocat",
      email: "mona@github.com",
      date: "2011-04-14T16:00:49Z",
    },
    committer: {
      name: "Monalisa Octocat",
      email: "mona@github.com",
      date: "2011-04-14T16:00:49Z",
    },
    message: "Fix all the bugs",
    tree: {
      url: "https://api.github.com/repos/octocat/Hello-World/tree/6dcb09b5b57875f334f61aebed695e2e4193db5e",
      sha: "6dcb09b5b57875f334f61aebed695e2e4193db5e",
    },
    comment_count: 0,
    verification: {
      verified: false,
      reason: "unsigned",
      signature: null,
      payload: null,
      verified_at: null,
    },
  },
  author: {
    login: "octocat",
    id: 1,
    node_id: "MDQ6VXNlcjE=",
    avatar_url: "https://github.com/images/error/octocat_happy.gif",
    gravatar_id: "",
    url: "https://api.github.com/users/octocat",
    html_url: "https://github.com/octocat",
    followers_url: "https://api.github.com/users/octocat/followers",
    following_url: "https://api.github.com/users/octocat/following{/other_user}",
    gists_url: "https://api.github.com/users/octocat/gists{/gist_id}",
    starred_url: "https://api.github.com/users/octocat/starred{/owner}{/repo}",
    subscriptions_url: "https://api.github.com/users/octocat/subscriptions",
    organizations_url: "https://api.github.com/users/octocat/orgs",
    repos_url: "https://api.github.com/users/octocat/repos",
    events_url: "https://api.github.com/users/octocat/events{/privacy}",
    received_events_url: "https://api.github.com/users/octocat/received_events",
    type: "User",
    site_admin: false,
  },
  committer: {
    login: "octocat",
    id: 1,
    node_id: "MDQ6VXNlcjE=",
    avatar_url: "https://github.com/images/error/octocat_happy.gif",
    gravatar_id: "",
    url: "https://api.github.com/users/octocat",
    html_url: "https://github.com/octocat",
    followers_url: "https://api.github.com/users/octocat/followers",
    following_url: "https://api.github.com/users/octocat/following{/other_user}",
    gists_url: "https://api.github.com/users/octocat/gists{/gist_id}",
    starred_url: "https://api.github.com/users/octocat/starred{/owner}{/repo}",
    subscriptions_url: "https://api.github.com/users/octocat/subscriptions",
    organizations_url: "https://api.github.com/users/octocat/orgs",
    repos_url: "https://api.github.com/users/octocat/repos",
    events_url: "https://api.github.com/users/octocat/events{/privacy}",
    received_events_url: "https://api.github.com/users/octocat/received_events",
    type: "User",
    site_admin: false,
  },
  parents: [
    {
      url: "https://api.github.com/repos/octocat/Hello-World/commits/6dcb09b5b57875f334f61aebed695e2e4193db5e",
      sha: "6dcb09b5b57875f334f61aebed695e2e4193db5e",
    },
  ],
};

export const compareExample: Schemas["commit-comparison"] = {
  url: "https://api.github.com/repos/octocat/Hello-World/compare/master...topic",
  html_url: "https://github.com/octocat/Hello-World/compare/master...topic",
  permalink_url:
    "https://github.com/octocat/Hello-World/compare/octocat:bbcd538c8e72b8c175046e27cc8f907076331401...octocat:0328041d1152db8ae77652d1618a02e57f745f17",
  diff_url: "https://github.com/octocat/Hello-World/compare/master...topic.diff",
  patch_url: "https://github.com/octocat/Hello-World/compare/master...topic.patch",
  base_commit: exampleCommit,
  merge_base_commit: exampleCommit,
  status: "behind",
  ahead_by: 1,
  behind_by: 2,
  total_commits: 1,
  commits: [exampleCommit],
  files: [
    {
      sha: "bbcd538c8e72b8c175046e27cc8f907076331401",
      filename: "file1.txt",
      status: "added",
      additions: 103,
      deletions: 21,
      changes: 124,
      blob_url:
        "https://github.com/octocat/Hello-World/blob/6dcb09b5b57875f334f61aebed695e2e4193db5e/file1.txt",
      raw_url:
        "https://github.com/octocat/Hello-World/raw/6dcb09b5b57875f334f61aebed695e2e4193db5e/file1.txt",
      contents_url:
        "https://api.github.com/repos/octocat/Hello-World/contents/file1.txt?ref=6dcb09b5b57875f334f61aebed695e2e4193db5e",
      patch: "@@ -132,7 +132,7 @@ module Test @@ -1000,7 +1000,7 @@ module Test",
    },
  ],
};

export const commitExample: Schemas["commit"] = {
  ...exampleCommit,
  stats: {
    additions: 104,
    deletions: 4,
    total: 108,
  },
  files: [
    {
      // GitHub's example omits these two required fields.
      sha: "bbcd538c8e72b8c175046e27cc8f907076331401",
      contents_url:
        "https://api.github.com/repos/octocat/Hello-World/contents/file1.txt?ref=6dcb09b5b57875f334f61aebed695e2e4193db5e",
      filename: "file1.txt",
      additions: 10,
      deletions: 2,
      changes: 12,
      status: "modified",
      raw_url:
        "https://github.com/octocat/Hello-World/raw/7ca483543807a51b6079e54ac4cc392bc29ae284/file1.txt",
      blob_url:
        "https://github.com/octocat/Hello-World/blob/7ca483543807a51b6079e54ac4cc392bc29ae284/file1.txt",
      patch: "@@ -29,7 +29,7 @@\n.....",
    },
  ],
};

export const codeSearchItemExample: Schemas["code-search-result-item"] = {
  name: "classes.js",
  path: "src/attributes/classes.js",
  sha: "d7212f9dee2dcc18f084d7df8f417b80846ded5a",
  url: "https://api.github.com/repositories/167174/contents/src/attributes/classes.js?ref=825ac3773694e0cd23ee74895fd5aeb535b27da4",
  git_url: "https://api.github.com/repositories/167174/git/blobs/d7212f9dee2dcc18f084d7df8f417b80846ded5a",
  html_url:
    "https://github.com/jquery/jquery/blob/825ac3773694e0cd23ee74895fd5aeb535b27da4/src/attributes/classes.js",
  repository: {
    id: 167174,
    node_id: "MDEwOlJlcG9zaXRvcnkxNjcxNzQ=",
    name: "jquery",
    full_name: "jquery/jquery",
    owner: {
      login: "jquery",
      id: 70142,
      node_id: "MDQ6VXNlcjcwMTQy",
      avatar_url:
        "https://0.gravatar.com/avatar/6906f317a4733f4379b06c32229ef02f?d=https%3A%2F%2Fidenticons.github.com%2Ff426f04f2f9813718fb806b30e0093de.png",
      gravatar_id: "",
      url: "https://api.github.com/users/jquery",
      html_url: "https://github.com/jquery",
      followers_url: "https://api.github.com/users/jquery/followers",
      following_url: "https://api.github.com/users/jquery/following{/other_user}",
      gists_url: "https://api.github.com/users/jquery/gists{/gist_id}",
      starred_url: "https://api.github.com/users/jquery/starred{/owner}{/repo}",
      subscriptions_url: "https://api.github.com/users/jquery/subscriptions",
      organizations_url: "https://api.github.com/users/jquery/orgs",
      repos_url: "https://api.github.com/users/jquery/repos",
      events_url: "https://api.github.com/users/jquery/events{/privacy}",
      received_events_url: "https://api.github.com/users/jquery/received_events",
      type: "Organization",
      site_admin: false,
    },
    private: false,
    html_url: "https://github.com/jquery/jquery",
    description: "jQuery JavaScript Library",
    fork: false,
    url: "https://api.github.com/repos/jquery/jquery",
    forks_url: "https://api.github.com/repos/jquery/jquery/forks",
    keys_url: "https://api.github.com/repos/jquery/jquery/keys{/key_id}",
    collaborators_url: "https://api.github.com/repos/jquery/jquery/collaborators{/collaborator}",
    teams_url: "https://api.github.com/repos/jquery/jquery/teams",
    hooks_url: "https://api.github.com/repos/jquery/jquery/hooks",
    issue_events_url: "https://api.github.com/repos/jquery/jquery/issues/events{/number}",
    events_url: "https://api.github.com/repos/jquery/jquery/events",
    assignees_url: "https://api.github.com/repos/jquery/jquery/assignees{/user}",
    branches_url: "https://api.github.com/repos/jquery/jquery/branches{/branch}",
    tags_url: "https://api.github.com/repos/jquery/jquery/tags",
    blobs_url: "https://api.github.com/repos/jquery/jquery/git/blobs{/sha}",
    git_tags_url: "https://api.github.com/repos/jquery/jquery/git/tags{/sha}",
    git_refs_url: "https://api.github.com/repos/jquery/jquery/git/refs{/sha}",
    trees_url: "https://api.github.com/repos/jquery/jquery/git/trees{/sha}",
    statuses_url: "https://api.github.com/repos/jquery/jquery/statuses/{sha}",
    languages_url: "https://api.github.com/repos/jquery/jquery/languages",
    stargazers_url: "https://api.github.com/repos/jquery/jquery/stargazers",
    contributors_url: "https://api.github.com/repos/jquery/jquery/contributors",
    subscribers_url: "https://api.github.com/repos/jquery/jquery/subscribers",
    subscription_url: "https://api.github.com/repos/jquery/jquery/subscription",
    commits_url: "https://api.github.com/repos/jquery/jquery/commits{/sha}",
    git_commits_url: "https://api.github.com/repos/jquery/jquery/git/commits{/sha}",
    comments_url: "https://api.github.com/repos/jquery/jquery/comments{/number}",
    issue_comment_url: "https://api.github.com/repos/jquery/jquery/issues/comments/{number}",
    contents_url: "https://api.github.com/repos/jquery/jquery/contents/{+path}",
    compare_url: "https://api.github.com/repos/jquery/jquery/compare/{base}...{head}",
    merges_url: "https://api.github.com/repos/jquery/jquery/merges",
    archive_url: "https://api.github.com/repos/jquery/jquery/{archive_format}{/ref}",
    downloads_url: "https://api.github.com/repos/jquery/jquery/downloads",
    issues_url: "https://api.github.com/repos/jquery/jquery/issues{/number}",
    pulls_url: "https://api.github.com/repos/jquery/jquery/pulls{/number}",
    milestones_url: "https://api.github.com/repos/jquery/jquery/milestones{/number}",
    notifications_url: "https://api.github.com/repos/jquery/jquery/notifications{?since,all,participating}",
    labels_url: "https://api.github.com/repos/jquery/jquery/labels{/name}",
    deployments_url: "http://api.github.com/repos/octocat/Hello-World/deployments",
    releases_url: "http://api.github.com/repos/octocat/Hello-World/releases{/id}",
  },
  score: 1,
};

export const rateLimitExample: Schemas["rate-limit-overview"] = {
  resources: {
    core: {
      limit: 5000,
      used: 1,
      remaining: 4999,
      reset: 1691591363,
    },
    search: {
      limit: 30,
      used: 12,
      remaining: 18,
      reset: 1691591091,
    },
    graphql: {
      limit: 5000,
      used: 7,
      remaining: 4993,
      reset: 1691593228,
    },
    integration_manifest: {
      limit: 5000,
      used: 1,
      remaining: 4999,
      reset: 1691594631,
    },
    source_import: {
      limit: 100,
      used: 1,
      remaining: 99,
      reset: 1691591091,
    },
    actions_runner_registration: {
      limit: 10000,
      used: 0,
      remaining: 10000,
      reset: 1691594631,
    },
    scim: {
      limit: 15000,
      used: 0,
      remaining: 15000,
      reset: 1691594631,
    },
    dependency_snapshots: {
      limit: 100,
      used: 0,
      remaining: 100,
      reset: 1691591091,
    },
    code_search: {
      limit: 10,
      used: 0,
      remaining: 10,
      reset: 1691591091,
    },
    code_scanning_autofix: {
      limit: 10,
      used: 0,
      remaining: 10,
      reset: 1691591091,
    },
  },
  rate: {
    limit: 5000,
    used: 1,
    remaining: 4999,
    reset: 1372700873,
  },
};
