// Apache has no `;` or `,` after the `}` of a service.
service Ping {
  void ping()
};
