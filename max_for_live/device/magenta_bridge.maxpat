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
      1420,
      660
    ],
    "openinpresentation": 1,
    "default_fontsize": 10.0,
    "default_fontname": "Arial Bold",
    "gridsize": [
      8,
      8
    ],
    "description": "Magenta Bridge: Magenta models from the magenta-bridge daemon, on the selected clip",
    "devicewidth": 600.0,
    "boxes": [
      {
        "box": {
          "id": "obj-midiin",
          "maxclass": "newobj",
          "patching_rect": [
            20,
            400,
            45,
            22
          ],
          "text": "midiin",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            "int"
          ]
        }
      },
      {
        "box": {
          "id": "obj-midiout",
          "maxclass": "newobj",
          "patching_rect": [
            20,
            440,
            50,
            22
          ],
          "text": "midiout",
          "numinlets": 1,
          "numoutlets": 0,
          "outlettype": []
        }
      },
      {
        "box": {
          "id": "obj-thisdevice",
          "maxclass": "newobj",
          "patching_rect": [
            300,
            180,
            90,
            22
          ],
          "text": "live.thisdevice",
          "numinlets": 1,
          "numoutlets": 3,
          "outlettype": [
            "bang",
            "int",
            "int"
          ]
        }
      },
      {
        "box": {
          "id": "obj-hellomsg",
          "maxclass": "message",
          "patching_rect": [
            300,
            220,
            40,
            22
          ],
          "text": "hello",
          "numinlets": 2,
          "numoutlets": 1,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-js",
          "maxclass": "newobj",
          "patching_rect": [
            300,
            300,
            170,
            22
          ],
          "text": "js magenta_bridge.js 11301",
          "numinlets": 1,
          "numoutlets": 3,
          "outlettype": [
            "",
            "",
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-udpsend",
          "maxclass": "newobj",
          "patching_rect": [
            300,
            360,
            160,
            22
          ],
          "text": "udpsend 127.0.0.1 11300",
          "numinlets": 1,
          "numoutlets": 0,
          "outlettype": []
        }
      },
      {
        "box": {
          "id": "obj-udpreceive",
          "maxclass": "newobj",
          "patching_rect": [
            520,
            240,
            100,
            22
          ],
          "text": "udpreceive 11301",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-status",
          "maxclass": "comment",
          "patching_rect": [
            480,
            360,
            300,
            20
          ],
          "text": "Magenta Bridge: looking for the daemon (magenta-bridge serve)",
          "numinlets": 1,
          "numoutlets": 0,
          "outlettype": [],
          "fontsize": 10.0,
          "linecount": 4,
          "presentation": 1,
          "presentation_rect": [
            5,
            104,
            590,
            60
          ]
        }
      },
      {
        "box": {
          "id": "obj-model",
          "maxclass": "umenu",
          "patching_rect": [
            640,
            360,
            110,
            22
          ],
          "numinlets": 1,
          "numoutlets": 3,
          "outlettype": [
            "int",
            "",
            ""
          ],
          "items": [
            "auto"
          ],
          "hint": "model: auto lets the daemon choose by the clip",
          "presentation": 1,
          "presentation_rect": [
            215,
            5,
            110,
            18
          ]
        }
      },
      {
        "box": {
          "id": "obj-set-model",
          "maxclass": "newobj",
          "patching_rect": [
            640,
            400,
            100,
            22
          ],
          "text": "prepend set model",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-model-label",
          "maxclass": "comment",
          "patching_rect": [
            640,
            330,
            40,
            20
          ],
          "text": "Model",
          "numinlets": 1,
          "numoutlets": 0,
          "outlettype": [],
          "presentation": 1,
          "presentation_rect": [
            180,
            6,
            35,
            18
          ]
        }
      },
      {
        "box": {
          "id": "obj-tool",
          "maxclass": "live.menu",
          "patching_rect": [
            20,
            20,
            100,
            15
          ],
          "numinlets": 1,
          "numoutlets": 3,
          "outlettype": [
            "",
            "",
            "float"
          ],
          "parameter_enable": 1,
          "varname": "Tool",
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
                "drumify",
                "harmonize",
                "infill"
              ],
              "parameter_initial_enable": 1,
              "parameter_initial": [
                0
              ]
            }
          },
          "presentation": 1,
          "presentation_rect": [
            5,
            6,
            85,
            15
          ]
        }
      },
      {
        "box": {
          "id": "obj-toolreg",
          "maxclass": "newobj",
          "patching_rect": [
            20,
            200,
            90,
            22
          ],
          "text": "zl reg continue",
          "numinlets": 2,
          "numoutlets": 2,
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
          "patching_rect": [
            20,
            60,
            60,
            20
          ],
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            ""
          ],
          "parameter_enable": 1,
          "varname": "Go",
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
          "text": "Go",
          "mode": 0,
          "presentation": 1,
          "presentation_rect": [
            95,
            5,
            40,
            16
          ]
        }
      },
      {
        "box": {
          "id": "obj-gob",
          "maxclass": "newobj",
          "patching_rect": [
            20,
            160,
            30,
            22
          ],
          "text": "t b",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            "bang"
          ]
        }
      },
      {
        "box": {
          "id": "obj-cancel",
          "maxclass": "live.text",
          "patching_rect": [
            90,
            60,
            60,
            20
          ],
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            ""
          ],
          "parameter_enable": 1,
          "varname": "Cancel",
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
          "text": "Cancel",
          "mode": 0,
          "presentation": 1,
          "presentation_rect": [
            330,
            5,
            40,
            16
          ]
        }
      },
      {
        "box": {
          "id": "obj-cancelb",
          "maxclass": "newobj",
          "patching_rect": [
            90,
            160,
            30,
            22
          ],
          "text": "t b",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            "bang"
          ]
        }
      },
      {
        "box": {
          "id": "obj-cancelmsg",
          "maxclass": "message",
          "patching_rect": [
            90,
            200,
            50,
            22
          ],
          "text": "cancel",
          "numinlets": 2,
          "numoutlets": 1,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-confirm",
          "maxclass": "live.text",
          "patching_rect": [
            160,
            60,
            60,
            20
          ],
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            ""
          ],
          "parameter_enable": 1,
          "varname": "Confirm",
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Confirm",
              "parameter_shortname": "Confirm",
              "parameter_type": 2,
              "parameter_enum": [
                "off",
                "on"
              ],
              "parameter_mmax": 1
            }
          },
          "text": "Confirm",
          "mode": 0,
          "presentation": 1,
          "presentation_rect": [
            330,
            25,
            85,
            16
          ]
        }
      },
      {
        "box": {
          "id": "obj-confirmb",
          "maxclass": "newobj",
          "patching_rect": [
            160,
            160,
            30,
            22
          ],
          "text": "t b",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            "bang"
          ]
        }
      },
      {
        "box": {
          "id": "obj-confirmmsg",
          "maxclass": "message",
          "patching_rect": [
            160,
            200,
            50,
            22
          ],
          "text": "confirm",
          "numinlets": 2,
          "numoutlets": 1,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-refresh",
          "maxclass": "live.text",
          "patching_rect": [
            230,
            60,
            60,
            20
          ],
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            ""
          ],
          "parameter_enable": 1,
          "varname": "Refresh",
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Refresh",
              "parameter_shortname": "Refresh",
              "parameter_type": 2,
              "parameter_enum": [
                "off",
                "on"
              ],
              "parameter_mmax": 1
            }
          },
          "text": "Refresh",
          "mode": 0,
          "presentation": 1,
          "presentation_rect": [
            375,
            5,
            40,
            16
          ]
        }
      },
      {
        "box": {
          "id": "obj-refreshb",
          "maxclass": "newobj",
          "patching_rect": [
            230,
            160,
            30,
            22
          ],
          "text": "t b",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            "bang"
          ]
        }
      },
      {
        "box": {
          "id": "obj-refreshmsg",
          "maxclass": "message",
          "patching_rect": [
            230,
            200,
            50,
            22
          ],
          "text": "refresh",
          "numinlets": 2,
          "numoutlets": 1,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-temperature",
          "maxclass": "live.dial",
          "patching_rect": [
            180,
            20,
            44,
            48
          ],
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            "float"
          ],
          "parameter_enable": 1,
          "varname": "Temperature",
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Temperature",
              "parameter_shortname": "Temp",
              "parameter_type": 0,
              "parameter_mmin": 0.1,
              "parameter_mmax": 2.0,
              "parameter_initial": [
                1.0
              ],
              "parameter_initial_enable": 1
            }
          },
          "presentation": 1,
          "presentation_rect": [
            5,
            30,
            44,
            48
          ]
        }
      },
      {
        "box": {
          "id": "obj-set-temperature",
          "maxclass": "newobj",
          "patching_rect": [
            180,
            200,
            110,
            22
          ],
          "text": "prepend set temperature",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-variations",
          "maxclass": "live.dial",
          "patching_rect": [
            300,
            20,
            44,
            48
          ],
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            "float"
          ],
          "parameter_enable": 1,
          "varname": "Variations",
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Variations",
              "parameter_shortname": "Var",
              "parameter_type": 1,
              "parameter_mmin": 1,
              "parameter_mmax": 16,
              "parameter_initial": [
                1
              ],
              "parameter_initial_enable": 1
            }
          },
          "presentation": 1,
          "presentation_rect": [
            55,
            30,
            44,
            48
          ]
        }
      },
      {
        "box": {
          "id": "obj-set-variations",
          "maxclass": "newobj",
          "patching_rect": [
            300,
            200,
            110,
            22
          ],
          "text": "prepend set variations",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-bars",
          "maxclass": "live.dial",
          "patching_rect": [
            420,
            20,
            44,
            48
          ],
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            "float"
          ],
          "parameter_enable": 1,
          "varname": "Bars",
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Bars",
              "parameter_shortname": "Bars",
              "parameter_type": 1,
              "parameter_mmin": 1,
              "parameter_mmax": 32,
              "parameter_initial": [
                4
              ],
              "parameter_initial_enable": 1
            }
          },
          "presentation": 1,
          "presentation_rect": [
            105,
            30,
            44,
            48
          ]
        }
      },
      {
        "box": {
          "id": "obj-set-bars",
          "maxclass": "newobj",
          "patching_rect": [
            420,
            200,
            110,
            22
          ],
          "text": "prepend set bars",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-steps",
          "maxclass": "live.dial",
          "patching_rect": [
            540,
            20,
            44,
            48
          ],
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            "float"
          ],
          "parameter_enable": 1,
          "varname": "Steps",
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Steps",
              "parameter_shortname": "Steps",
              "parameter_type": 1,
              "parameter_mmin": 2,
              "parameter_mmax": 16,
              "parameter_initial": [
                5
              ],
              "parameter_initial_enable": 1
            }
          },
          "presentation": 1,
          "presentation_rect": [
            155,
            30,
            44,
            48
          ]
        }
      },
      {
        "box": {
          "id": "obj-set-steps",
          "maxclass": "newobj",
          "patching_rect": [
            540,
            200,
            110,
            22
          ],
          "text": "prepend set steps",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-pitchlow",
          "maxclass": "live.numbox",
          "patching_rect": [
            660,
            20,
            44,
            15
          ],
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            "float"
          ],
          "parameter_enable": 1,
          "varname": "Pitch Low",
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Pitch Low",
              "parameter_shortname": "Low",
              "parameter_type": 1,
              "parameter_mmin": 0,
              "parameter_mmax": 127,
              "parameter_initial": [
                0
              ],
              "parameter_unitstyle": 8,
              "parameter_initial_enable": 1
            }
          },
          "presentation": 1,
          "presentation_rect": [
            210,
            45,
            40,
            15
          ]
        }
      },
      {
        "box": {
          "id": "obj-set-pitch_low",
          "maxclass": "newobj",
          "patching_rect": [
            660,
            200,
            110,
            22
          ],
          "text": "prepend set pitch_low",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-label-pitch_low",
          "maxclass": "comment",
          "patching_rect": [
            660,
            80,
            90,
            20
          ],
          "text": "Pitch low",
          "numinlets": 1,
          "numoutlets": 0,
          "outlettype": [],
          "fontsize": 9.0,
          "presentation": 1,
          "presentation_rect": [
            210,
            30,
            45,
            15
          ]
        }
      },
      {
        "box": {
          "id": "obj-pitchhigh",
          "maxclass": "live.numbox",
          "patching_rect": [
            780,
            20,
            44,
            15
          ],
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            "float"
          ],
          "parameter_enable": 1,
          "varname": "Pitch High",
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Pitch High",
              "parameter_shortname": "High",
              "parameter_type": 1,
              "parameter_mmin": 0,
              "parameter_mmax": 127,
              "parameter_initial": [
                127
              ],
              "parameter_unitstyle": 8,
              "parameter_initial_enable": 1
            }
          },
          "presentation": 1,
          "presentation_rect": [
            255,
            45,
            40,
            15
          ]
        }
      },
      {
        "box": {
          "id": "obj-set-pitch_high",
          "maxclass": "newobj",
          "patching_rect": [
            780,
            200,
            110,
            22
          ],
          "text": "prepend set pitch_high",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-label-pitch_high",
          "maxclass": "comment",
          "patching_rect": [
            780,
            80,
            90,
            20
          ],
          "text": "high",
          "numinlets": 1,
          "numoutlets": 0,
          "outlettype": [],
          "fontsize": 9.0,
          "presentation": 1,
          "presentation_rect": [
            255,
            30,
            40,
            15
          ]
        }
      },
      {
        "box": {
          "id": "obj-seed",
          "maxclass": "live.numbox",
          "patching_rect": [
            900,
            20,
            44,
            15
          ],
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            "float"
          ],
          "parameter_enable": 1,
          "varname": "Seed",
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Seed",
              "parameter_shortname": "Seed",
              "parameter_type": 1,
              "parameter_mmin": -1,
              "parameter_mmax": 99999,
              "parameter_initial": [
                -1
              ],
              "parameter_initial_enable": 1
            }
          },
          "presentation": 1,
          "presentation_rect": [
            210,
            80,
            50,
            15
          ]
        }
      },
      {
        "box": {
          "id": "obj-set-seed",
          "maxclass": "newobj",
          "patching_rect": [
            900,
            200,
            110,
            22
          ],
          "text": "prepend set seed",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-label-seed",
          "maxclass": "comment",
          "patching_rect": [
            900,
            80,
            90,
            20
          ],
          "text": "Seed (-1 random)",
          "numinlets": 1,
          "numoutlets": 0,
          "outlettype": [],
          "fontsize": 9.0,
          "presentation": 1,
          "presentation_rect": [
            210,
            65,
            90,
            15
          ]
        }
      },
      {
        "box": {
          "id": "obj-keylock",
          "maxclass": "live.toggle",
          "patching_rect": [
            1020,
            20,
            15,
            15
          ],
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ],
          "parameter_enable": 1,
          "varname": "Key Lock",
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
              "parameter_initial": [
                0
              ],
              "parameter_initial_enable": 1
            }
          },
          "presentation": 1,
          "presentation_rect": [
            305,
            45,
            15,
            15
          ]
        }
      },
      {
        "box": {
          "id": "obj-set-keylock",
          "maxclass": "newobj",
          "patching_rect": [
            1020,
            200,
            110,
            22
          ],
          "text": "prepend set keylock",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-label-keylock",
          "maxclass": "comment",
          "patching_rect": [
            1020,
            80,
            90,
            20
          ],
          "text": "Key lock (song key)",
          "numinlets": 1,
          "numoutlets": 0,
          "outlettype": [],
          "fontsize": 9.0,
          "presentation": 1,
          "presentation_rect": [
            322,
            44,
            95,
            15
          ]
        }
      },
      {
        "box": {
          "id": "obj-kitmap",
          "maxclass": "live.toggle",
          "patching_rect": [
            1140,
            20,
            15,
            15
          ],
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ],
          "parameter_enable": 1,
          "varname": "Kit Map",
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Kit Map",
              "parameter_shortname": "Kit",
              "parameter_type": 2,
              "parameter_enum": [
                "off",
                "on"
              ],
              "parameter_mmax": 1,
              "parameter_initial": [
                1
              ],
              "parameter_initial_enable": 1
            }
          },
          "presentation": 1,
          "presentation_rect": [
            305,
            80,
            15,
            15
          ]
        }
      },
      {
        "box": {
          "id": "obj-set-kitmap",
          "maxclass": "newobj",
          "patching_rect": [
            1140,
            200,
            110,
            22
          ],
          "text": "prepend set kitmap",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-label-kitmap",
          "maxclass": "comment",
          "patching_rect": [
            1140,
            80,
            90,
            20
          ],
          "text": "Map drums to kit",
          "numinlets": 1,
          "numoutlets": 0,
          "outlettype": [],
          "fontsize": 9.0,
          "presentation": 1,
          "presentation_rect": [
            322,
            79,
            95,
            15
          ]
        }
      },
      {
        "box": {
          "id": "obj-gibbs",
          "maxclass": "live.numbox",
          "patching_rect": [
            1260,
            20,
            44,
            15
          ],
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            "float"
          ],
          "parameter_enable": 1,
          "varname": "Gibbs steps",
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Gibbs steps",
              "parameter_shortname": "Gibbs",
              "parameter_type": 1,
              "parameter_mmin": -1,
              "parameter_mmax": 16384,
              "parameter_initial": [
                -1
              ],
              "parameter_initial_enable": 1
            }
          },
          "presentation": 1,
          "presentation_rect": [
            105,
            84,
            45,
            15
          ]
        }
      },
      {
        "box": {
          "id": "obj-set-gibbs_steps",
          "maxclass": "newobj",
          "patching_rect": [
            1260,
            200,
            130,
            22
          ],
          "text": "prepend set gibbs_steps",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-label-gibbs_steps",
          "maxclass": "comment",
          "patching_rect": [
            1260,
            80,
            90,
            20
          ],
          "text": "Gibbs steps (-1 auto)",
          "numinlets": 1,
          "numoutlets": 0,
          "outlettype": [],
          "fontsize": 9.0,
          "presentation": 1,
          "presentation_rect": [
            5,
            84,
            100,
            15
          ]
        }
      },
      {
        "box": {
          "id": "obj-mode",
          "maxclass": "live.menu",
          "patching_rect": [
            20,
            480,
            70,
            15
          ],
          "numinlets": 1,
          "numoutlets": 3,
          "outlettype": [
            "",
            "",
            "float"
          ],
          "parameter_enable": 1,
          "varname": "Interp Mode",
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Interp Mode",
              "parameter_shortname": "Mode",
              "parameter_type": 2,
              "parameter_enum": [
                "spherical",
                "linear"
              ],
              "parameter_initial_enable": 1,
              "parameter_initial": [
                0
              ]
            }
          },
          "presentation": 1,
          "presentation_rect": [
            465,
            6,
            60,
            15
          ]
        }
      },
      {
        "box": {
          "id": "obj-label-mode",
          "maxclass": "comment",
          "patching_rect": [
            20,
            540,
            90,
            20
          ],
          "text": "Interp.",
          "numinlets": 1,
          "numoutlets": 0,
          "outlettype": [],
          "fontsize": 9.0,
          "presentation": 1,
          "presentation_rect": [
            430,
            6,
            35,
            15
          ]
        }
      },
      {
        "box": {
          "id": "obj-set-mode",
          "maxclass": "newobj",
          "patching_rect": [
            20,
            580,
            120,
            22
          ],
          "text": "prepend set mode",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-endpoints",
          "maxclass": "live.toggle",
          "patching_rect": [
            140,
            480,
            15,
            15
          ],
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ],
          "parameter_enable": 1,
          "varname": "Endpoints",
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Endpoints",
              "parameter_shortname": "Ends",
              "parameter_type": 2,
              "parameter_enum": [
                "off",
                "on"
              ],
              "parameter_mmax": 1,
              "parameter_initial": [
                1
              ],
              "parameter_initial_enable": 1
            }
          },
          "presentation": 1,
          "presentation_rect": [
            530,
            6,
            15,
            15
          ]
        }
      },
      {
        "box": {
          "id": "obj-label-endpoints",
          "maxclass": "comment",
          "patching_rect": [
            140,
            540,
            90,
            20
          ],
          "text": "Endpoints",
          "numinlets": 1,
          "numoutlets": 0,
          "outlettype": [],
          "fontsize": 9.0,
          "presentation": 1,
          "presentation_rect": [
            547,
            5,
            48,
            15
          ]
        }
      },
      {
        "box": {
          "id": "obj-set-endpoints",
          "maxclass": "newobj",
          "patching_rect": [
            140,
            580,
            120,
            22
          ],
          "text": "prepend set endpoints",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-distance",
          "maxclass": "live.dial",
          "patching_rect": [
            260,
            480,
            44,
            48
          ],
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            "float"
          ],
          "parameter_enable": 1,
          "varname": "Distance",
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Distance",
              "parameter_shortname": "Distance",
              "parameter_type": 0,
              "parameter_mmin": 0.0,
              "parameter_mmax": 4.0,
              "parameter_exponent": 2.0,
              "parameter_initial": [
                0.5
              ],
              "parameter_initial_enable": 1
            }
          },
          "presentation": 1,
          "presentation_rect": [
            430,
            30,
            44,
            48
          ]
        }
      },
      {
        "box": {
          "id": "obj-set-distance",
          "maxclass": "newobj",
          "patching_rect": [
            260,
            580,
            120,
            22
          ],
          "text": "prepend set distance",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-density",
          "maxclass": "live.dial",
          "patching_rect": [
            380,
            480,
            44,
            48
          ],
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            "float"
          ],
          "parameter_enable": 1,
          "varname": "Density",
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Density",
              "parameter_shortname": "Density",
              "parameter_type": 1,
              "parameter_mmin": 0,
              "parameter_mmax": 64,
              "parameter_initial": [
                0
              ],
              "parameter_initial_enable": 1
            }
          },
          "presentation": 1,
          "presentation_rect": [
            480,
            30,
            44,
            48
          ]
        }
      },
      {
        "box": {
          "id": "obj-set-density",
          "maxclass": "newobj",
          "patching_rect": [
            380,
            580,
            120,
            22
          ],
          "text": "prepend set density",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-polyphony",
          "maxclass": "live.dial",
          "patching_rect": [
            500,
            480,
            44,
            48
          ],
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            "float"
          ],
          "parameter_enable": 1,
          "varname": "Polyphony",
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Polyphony",
              "parameter_shortname": "Poly",
              "parameter_type": 1,
              "parameter_mmin": 0,
              "parameter_mmax": 16,
              "parameter_initial": [
                0
              ],
              "parameter_initial_enable": 1
            }
          },
          "presentation": 1,
          "presentation_rect": [
            530,
            30,
            44,
            48
          ]
        }
      },
      {
        "box": {
          "id": "obj-set-polyphony",
          "maxclass": "newobj",
          "patching_rect": [
            500,
            580,
            120,
            22
          ],
          "text": "prepend set polyphony",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-keephits",
          "maxclass": "live.toggle",
          "patching_rect": [
            620,
            480,
            15,
            15
          ],
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ],
          "parameter_enable": 1,
          "varname": "Keep Hits",
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Keep Hits",
              "parameter_shortname": "Keep",
              "parameter_type": 2,
              "parameter_enum": [
                "off",
                "on"
              ],
              "parameter_mmax": 1,
              "parameter_initial": [
                1
              ],
              "parameter_initial_enable": 1
            }
          },
          "presentation": 1,
          "presentation_rect": [
            430,
            84,
            15,
            15
          ]
        }
      },
      {
        "box": {
          "id": "obj-label-keep_hits",
          "maxclass": "comment",
          "patching_rect": [
            620,
            540,
            90,
            20
          ],
          "text": "Keep hits",
          "numinlets": 1,
          "numoutlets": 0,
          "outlettype": [],
          "fontsize": 9.0,
          "presentation": 1,
          "presentation_rect": [
            447,
            83,
            50,
            15
          ]
        }
      },
      {
        "box": {
          "id": "obj-set-keep_hits",
          "maxclass": "newobj",
          "patching_rect": [
            620,
            580,
            120,
            22
          ],
          "text": "prepend set keep_hits",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-backbone",
          "maxclass": "live.toggle",
          "patching_rect": [
            740,
            480,
            15,
            15
          ],
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ],
          "parameter_enable": 1,
          "varname": "Backbone",
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Backbone",
              "parameter_shortname": "Backbone",
              "parameter_type": 2,
              "parameter_enum": [
                "off",
                "on"
              ],
              "parameter_mmax": 1,
              "parameter_initial": [
                1
              ],
              "parameter_initial_enable": 1
            }
          },
          "presentation": 1,
          "presentation_rect": [
            505,
            84,
            15,
            15
          ]
        }
      },
      {
        "box": {
          "id": "obj-label-backbone",
          "maxclass": "comment",
          "patching_rect": [
            740,
            540,
            90,
            20
          ],
          "text": "Backbone",
          "numinlets": 1,
          "numoutlets": 0,
          "outlettype": [],
          "fontsize": 9.0,
          "presentation": 1,
          "presentation_rect": [
            522,
            83,
            55,
            15
          ]
        }
      },
      {
        "box": {
          "id": "obj-set-backbone",
          "maxclass": "newobj",
          "patching_rect": [
            740,
            580,
            120,
            22
          ],
          "text": "prepend set backbone",
          "numinlets": 1,
          "numoutlets": 1,
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
            "obj-midiin",
            0
          ],
          "destination": [
            "obj-midiout",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-thisdevice",
            0
          ],
          "destination": [
            "obj-hellomsg",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-hellomsg",
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
            1
          ],
          "destination": [
            "obj-status",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-js",
            2
          ],
          "destination": [
            "obj-model",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-model",
            1
          ],
          "destination": [
            "obj-set-model",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-set-model",
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
            "obj-confirm",
            0
          ],
          "destination": [
            "obj-confirmb",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-confirmb",
            0
          ],
          "destination": [
            "obj-confirmmsg",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-confirmmsg",
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
            "obj-refresh",
            0
          ],
          "destination": [
            "obj-refreshb",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-refreshb",
            0
          ],
          "destination": [
            "obj-refreshmsg",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-refreshmsg",
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
            "obj-pitchlow",
            0
          ],
          "destination": [
            "obj-set-pitch_low",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-set-pitch_low",
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
            "obj-pitchhigh",
            0
          ],
          "destination": [
            "obj-set-pitch_high",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-set-pitch_high",
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
            "obj-seed",
            0
          ],
          "destination": [
            "obj-set-seed",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-set-seed",
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
            "obj-kitmap",
            0
          ],
          "destination": [
            "obj-set-kitmap",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-set-kitmap",
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
            "obj-gibbs",
            0
          ],
          "destination": [
            "obj-set-gibbs_steps",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-set-gibbs_steps",
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
            "obj-mode",
            1
          ],
          "destination": [
            "obj-set-mode",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-set-mode",
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
            "obj-endpoints",
            0
          ],
          "destination": [
            "obj-set-endpoints",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-set-endpoints",
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
            "obj-distance",
            0
          ],
          "destination": [
            "obj-set-distance",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-set-distance",
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
            "obj-density",
            0
          ],
          "destination": [
            "obj-set-density",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-set-density",
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
            "obj-polyphony",
            0
          ],
          "destination": [
            "obj-set-polyphony",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-set-polyphony",
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
            "obj-keephits",
            0
          ],
          "destination": [
            "obj-set-keep_hits",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-set-keep_hits",
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
            "obj-backbone",
            0
          ],
          "destination": [
            "obj-set-backbone",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-set-backbone",
            0
          ],
          "destination": [
            "obj-js",
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
