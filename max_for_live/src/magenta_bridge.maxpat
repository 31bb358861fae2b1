{
 "patcher": {
  "fileversion": 1,
  "appversion": {
   "major": 8,
   "minor": 6,
   "revision": 0,
   "architecture": "x64",
   "modernui": 1
  },
  "classnamespace": "box",
  "rect": [
   100,
   100,
   900,
   500
  ],
  "openinpresentation": 0,
  "default_fontsize": 10.0,
  "default_fontname": "Arial Bold",
  "gridsize": [
   8,
   8
  ],
  "description": "Magenta Bridge: Magenta models from the magenta-bridge daemon, on the selected clip",
  "boxes": [
   {
    "box": {
     "id": "obj-js",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      300,
      300,
      170,
      22
     ],
     "text": "js magenta_bridge.js 11301",
     "outlettype": [
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-udpsend",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      300,
      360,
      160,
      22
     ],
     "text": "udpsend 127.0.0.1 11300",
     "outlettype": []
    }
   },
   {
    "box": {
     "id": "obj-udpreceive",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      520,
      240,
      100,
      22
     ],
     "text": "udpreceive 11301",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-status",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      480,
      360,
      300,
      20
     ],
     "text": "Magenta Bridge: start the daemon (magenta-bridge serve)",
     "outlettype": []
    }
   },
   {
    "box": {
     "id": "obj-tool",
     "maxclass": "live.menu",
     "numinlets": 1,
     "numoutlets": 3,
     "patching_rect": [
      20,
      20,
      100,
      15
     ],
     "outlettype": [
      "",
      "",
      "float"
     ],
     "parameter_enable": 1,
     "saved_attribute_attributes": {
      "valueof": {
       "parameter_longname": "Tool",
       "parameter_shortname": "Tool",
       "parameter_type": 2,
       "parameter_enum": [
        "continue",
        "generate",
        "interpolate",
        "vary",
        "groove",
        "drumify"
       ],
       "parameter_initial_enable": 1,
       "parameter_initial": [
        0
       ]
      }
     },
     "varname": "Tool"
    }
   },
   {
    "box": {
     "id": "obj-toolreg",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 2,
     "patching_rect": [
      20,
      200,
      90,
      22
     ],
     "text": "zl reg continue",
     "outlettype": [
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-go",
     "maxclass": "live.text",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      20,
      60,
      60,
      20
     ],
     "text": "Go",
     "outlettype": [
      "",
      ""
     ],
     "parameter_enable": 1,
     "mode": 0,
     "saved_attribute_attributes": {
      "valueof": {
       "parameter_longname": "Go",
       "parameter_shortname": "Go",
       "parameter_type": 2,
       "parameter_enum": [
        "off",
        "on"
       ],
       "parameter_mmax": 1
      }
     },
     "varname": "Go"
    }
   },
   {
    "box": {
     "id": "obj-gob",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      20,
      160,
      30,
      22
     ],
     "text": "t b",
     "outlettype": [
      "bang"
     ]
    }
   },
   {
    "box": {
     "id": "obj-cancel",
     "maxclass": "live.text",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      90,
      60,
      60,
      20
     ],
     "text": "Cancel",
     "outlettype": [
      "",
      ""
     ],
     "parameter_enable": 1,
     "mode": 0,
     "saved_attribute_attributes": {
      "valueof": {
       "parameter_longname": "Cancel",
       "parameter_shortname": "Cancel",
       "parameter_type": 2,
       "parameter_enum": [
        "off",
        "on"
       ],
       "parameter_mmax": 1
      }
     },
     "varname": "Cancel"
    }
   },
   {
    "box": {
     "id": "obj-cancelb",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      90,
      160,
      30,
      22
     ],
     "text": "t b",
     "outlettype": [
      "bang"
     ]
    }
   },
   {
    "box": {
     "id": "obj-cancelmsg",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      90,
      200,
      50,
      22
     ],
     "text": "cancel",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-temperature",
     "maxclass": "live.dial",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      180,
      20,
      44,
      48
     ],
     "outlettype": [
      "",
      ""
     ],
     "parameter_enable": 1,
     "saved_attribute_attributes": {
      "valueof": {
       "parameter_longname": "Temperature",
       "parameter_shortname": "Temp",
       "parameter_type": 0,
       "parameter_mmin": 0.1,
       "parameter_mmax": 2.0,
       "parameter_initial_enable": 1,
       "parameter_initial": [
        1.0
       ]
      }
     },
     "varname": "Temperature"
    }
   },
   {
    "box": {
     "id": "obj-set-temperature",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      180,
      200,
      110,
      22
     ],
     "text": "prepend set temperature",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-variations",
     "maxclass": "live.numbox",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      300,
      20,
      44,
      48
     ],
     "outlettype": [
      "",
      ""
     ],
     "parameter_enable": 1,
     "saved_attribute_attributes": {
      "valueof": {
       "parameter_longname": "Variations",
       "parameter_shortname": "Vars",
       "parameter_type": 1,
       "parameter_mmin": 1,
       "parameter_mmax": 16,
       "parameter_initial_enable": 1,
       "parameter_initial": [
        1
       ]
      }
     },
     "varname": "Variations"
    }
   },
   {
    "box": {
     "id": "obj-set-variations",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      300,
      200,
      110,
      22
     ],
     "text": "prepend set variations",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-bars",
     "maxclass": "live.numbox",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      420,
      20,
      44,
      48
     ],
     "outlettype": [
      "",
      ""
     ],
     "parameter_enable": 1,
     "saved_attribute_attributes": {
      "valueof": {
       "parameter_longname": "Bars",
       "parameter_shortname": "Bars",
       "parameter_type": 1,
       "parameter_mmin": 1,
       "parameter_mmax": 16,
       "parameter_initial_enable": 1,
       "parameter_initial": [
        4
       ]
      }
     },
     "varname": "Bars"
    }
   },
   {
    "box": {
     "id": "obj-set-bars",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      420,
      200,
      110,
      22
     ],
     "text": "prepend set bars",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-steps",
     "maxclass": "live.numbox",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      540,
      20,
      44,
      48
     ],
     "outlettype": [
      "",
      ""
     ],
     "parameter_enable": 1,
     "saved_attribute_attributes": {
      "valueof": {
       "parameter_longname": "Steps",
       "parameter_shortname": "Steps",
       "parameter_type": 1,
       "parameter_mmin": 2,
       "parameter_mmax": 16,
       "parameter_initial_enable": 1,
       "parameter_initial": [
        5
       ]
      }
     },
     "varname": "Steps"
    }
   },
   {
    "box": {
     "id": "obj-set-steps",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      540,
      200,
      110,
      22
     ],
     "text": "prepend set steps",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-keylock",
     "maxclass": "live.toggle",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      660,
      20,
      44,
      48
     ],
     "outlettype": [
      ""
     ],
     "parameter_enable": 1,
     "saved_attribute_attributes": {
      "valueof": {
       "parameter_longname": "Key Lock",
       "parameter_shortname": "Key",
       "parameter_type": 2,
       "parameter_enum": [
        "off",
        "on"
       ],
       "parameter_mmax": 1,
       "parameter_initial_enable": 1,
       "parameter_initial": [
        0
       ]
      }
     },
     "varname": "Key Lock"
    }
   },
   {
    "box": {
     "id": "obj-set-keylock",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      660,
      200,
      110,
      22
     ],
     "text": "prepend set keylock",
     "outlettype": [
      ""
     ]
    }
   }
  ],
  "lines": [
   {
    "patchline": {
     "source": [
      "obj-temperature",
      0
     ],
     "destination": [
      "obj-set-temperature",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-set-temperature",
      0
     ],
     "destination": [
      "obj-js",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-variations",
      0
     ],
     "destination": [
      "obj-set-variations",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-set-variations",
      0
     ],
     "destination": [
      "obj-js",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-bars",
      0
     ],
     "destination": [
      "obj-set-bars",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-set-bars",
      0
     ],
     "destination": [
      "obj-js",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-steps",
      0
     ],
     "destination": [
      "obj-set-steps",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-set-steps",
      0
     ],
     "destination": [
      "obj-js",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-keylock",
      0
     ],
     "destination": [
      "obj-set-keylock",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-set-keylock",
      0
     ],
     "destination": [
      "obj-js",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-tool",
      1
     ],
     "destination": [
      "obj-toolreg",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-go",
      0
     ],
     "destination": [
      "obj-gob",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-gob",
      0
     ],
     "destination": [
      "obj-toolreg",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-toolreg",
      0
     ],
     "destination": [
      "obj-js",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-cancel",
      0
     ],
     "destination": [
      "obj-cancelb",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-cancelb",
      0
     ],
     "destination": [
      "obj-cancelmsg",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-cancelmsg",
      0
     ],
     "destination": [
      "obj-js",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-udpreceive",
      0
     ],
     "destination": [
      "obj-js",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-js",
      0
     ],
     "destination": [
      "obj-udpsend",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-js",
      1
     ],
     "destination": [
      "obj-status",
      0
     ]
    }
   }
  ],
  "dependency_cache": [
   {
    "name": "magenta_bridge.js",
    "bootpath": ".",
    "type": "TEXT",
    "implicit": 1
   }
  ],
  "autosave": 0
 }
}
